"""The metric names a Caxton server exposes on /metrics, as Prometheus spells them.

The alert rules and the Grafana dashboard under deploy/ may use these and nothing else
(test_alert_rules.py checks it), so that they cannot drift from what the server exposes.
Histograms are listed by their base name: `_bucket`, `_sum` and `_count` are implied.
"""

from __future__ import annotations

HISTOGRAMS: frozenset[str] = frozenset(
    {
        "caxton_message_latency_seconds",
        "caxton_agent_message_latency_seconds",
        "caxton_sqlite_query_seconds",
        "caxton_http_request_duration_seconds",
    }
)

EXPOSED: frozenset[str] = HISTOGRAMS | frozenset(
    {
        "caxton_build_info",
        "caxton_agents",
        # Messages
        "caxton_messages_routed_total",
        "caxton_messages_delivered_total",
        "caxton_messages_failed_total",
        "caxton_dead_letters_total",
        # Mailboxes
        "caxton_mailbox_depth",
        "caxton_mailbox_peak_depth",
        "caxton_mailbox_capacity",
        "caxton_mailbox_threshold_events_total",
        # Rates
        "caxton_message_rate",
        "caxton_message_rate_peak",
        "caxton_message_rate_spikes_total",
        "caxton_agent_message_rate_peak",
        "caxton_agent_message_rate_spikes_total",
        # Errors
        "caxton_errors_total",
        "caxton_agent_errors_total",
        # Per agent
        "caxton_agent_messages_handled_total",
        "caxton_agent_messages_sent_total",
        "caxton_agent_fuel_consumed_total",
        "caxton_agent_memory_bytes",
        "caxton_agent_handler_seconds_total",
        # The process (prometheus_client's process collector)
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_virtual_memory_bytes",
        "process_open_fds",
        "process_max_fds",
        "process_start_time_seconds",
        # The store
        "caxton_sqlite_size_bytes",
    }
)
