;; echo - Caxton example agent (ABI version 1), hand-written WebAssembly text.
;; The C version in examples/agents/c/echo.c behaves the same.
;;
;; caxton_init logs (info) "echo ready". For each message it sends
;;   {"performative":"inform","receiver":<sender>,"content":<content, raw; null if absent>
;;    [,"conversation_id":<conversation_id>][,"in_reply_to":<reply_with>]}
;; where the optional fields are copied only when present as strings.
;; No sender: a warning is logged and nothing is sent. Always returns 0
;; (1 only if memory for the reply cannot be allocated).
;;
;; Only module "caxton" is imported (no WASI). Memory: 1 page to start, no
;; maximum; caxton_alloc is a bump allocator whose heap is reset when each
;; caxton_init/caxton_handle call returns (see "allocation" below), which is
;; enough because the host writes one message at a time and the agent is done
;; with a message when its caxton_handle returns.
(module
  (import "caxton" "send" (func $send (param i32 i32) (result i32)))
  (import "caxton" "log" (func $log (param i32 i32 i32)))

  ;; ---- memory layout ----
  ;; [0, 1024)     unused, so that no valid pointer is 0
  ;; [1024, 4032)  constant strings (the data segments at the end)
  ;; [4032, 4064)  scratch for formatting numbers
  ;; [4096, ...)   the heap: a bump allocator, grown with memory.grow
  (memory (export "memory") 1)

  (global $heap (mut i32) (i32.const 4096))  ;; next free byte
  (global $busy (mut i32) (i32.const 0))     ;; 1 while caxton_init/caxton_handle runs
  (global $vlen (mut i32) (i32.const 0))     ;; length of the value $get found
  (global $out (mut i32) (i32.const 0))      ;; write cursor of $emit
  (global $out_start (mut i32) (i32.const 0));; start of the buffer $begin opened

  ;; ---- allocation ----
  ;; A bump allocator. Everything allocated during one caxton_init/caxton_handle
  ;; call, the inbound buffer included, is dead once the call returns (the host
  ;; writes one message at a time and never calls in while a handler runs), so
  ;; the heap is reset to its base when the call returns. If a call trapped,
  ;; $busy is still 1 and the next caxton_alloc resets the heap instead.

  ;; `len` bytes, 8-aligned; 0 when memory cannot grow enough.
  (func $alloc (param $len i32) (result i32)
    (local $p i32) (local $top i64) (local $size i64)
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i32.const 0))))
    (local.set $p (i32.and (i32.add (global.get $heap) (i32.const 7)) (i32.const -8)))
    (local.set $top (i64.add (i64.extend_i32_u (local.get $p)) (i64.extend_i32_u (local.get $len))))
    (if (i64.gt_u (local.get $top) (i64.const 0xffff0000)) (then (return (i32.const 0))))
    (local.set $size (i64.shl (i64.extend_i32_u (memory.size)) (i64.const 16)))
    (if (i64.gt_u (local.get $top) (local.get $size))
      (then
        (if (i32.eq
              (memory.grow
                (i32.wrap_i64
                  (i64.shr_u
                    (i64.add (i64.sub (local.get $top) (local.get $size)) (i64.const 65535))
                    (i64.const 16))))
              (i32.const -1))
          (then (return (i32.const 0))))))
    (global.set $heap (i32.wrap_i64 (local.get $top)))
    (local.get $p))

  (func (export "caxton_alloc") (param $len i32) (result i32)
    (if (global.get $busy)
      (then
        (global.set $heap (i32.const 4096))
        (global.set $busy (i32.const 0))))
    (call $alloc (local.get $len)))

  (func (export "caxton_init") (param $ptr i32) (param $len i32) (result i32)
    (local $rc i32)
    (global.set $busy (i32.const 1))
    (local.set $rc (call $on_init (local.get $ptr) (local.get $len)))
    (global.set $heap (i32.const 4096))
    (global.set $busy (i32.const 0))
    (local.get $rc))

  (func (export "caxton_handle") (param $ptr i32) (param $len i32) (result i32)
    (local $rc i32)
    (global.set $busy (i32.const 1))
    (local.set $rc (call $on_message (local.get $ptr) (local.get $len)))
    (global.set $heap (i32.const 4096))
    (global.set $busy (i32.const 0))
    (local.get $rc))

  ;; ---- a minimal JSON reader (well-formed input; string escapes are not decoded) ----

  (func $is_ws (param $c i32) (result i32)
    (i32.or
      (i32.or (i32.eq (local.get $c) (i32.const 32)) (i32.eq (local.get $c) (i32.const 9)))
      (i32.or (i32.eq (local.get $c) (i32.const 10)) (i32.eq (local.get $c) (i32.const 13)))))

  (func $skip_ws (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.eqz (call $is_ws (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (local.get $p))

  ;; $p at an opening quote: the position after the closing quote, 0 if unterminated.
  (func $skip_string (param $p i32) (param $end i32) (result i32)
    (local $c i32)
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (local.set $c (i32.load8_u (local.get $p)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (if (i32.eq (local.get $c) (i32.const 34)) (then (return (local.get $p))))  ;; '"'
      (if (i32.eq (local.get $c) (i32.const 92))                                  ;; '\\'
        (then (local.set $p (i32.add (local.get $p) (i32.const 1)))))
      (br $next))
    (unreachable))

  ;; The position after the JSON value that starts at $p, 0 if there is none.
  (func $skip_value (param $p i32) (param $end i32) (result i32)
    (local $c i32) (local $depth i32) (local $start i32)
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (local.set $c (i32.load8_u (local.get $p)))
    (if (i32.eq (local.get $c) (i32.const 34))
      (then (return (call $skip_string (local.get $p) (local.get $end)))))
    (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
      (then
        ;; object or array: count brackets outside strings
        (loop $next
          (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
          (local.set $c (i32.load8_u (local.get $p)))
          (if (i32.eq (local.get $c) (i32.const 34))
            (then
              (local.set $p (call $skip_string (local.get $p) (local.get $end)))
              (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
              (br $next)))
          (if (i32.or (i32.eq (local.get $c) (i32.const 123)) (i32.eq (local.get $c) (i32.const 91)))
            (then (local.set $depth (i32.add (local.get $depth) (i32.const 1)))))
          (if (i32.or (i32.eq (local.get $c) (i32.const 125)) (i32.eq (local.get $c) (i32.const 93)))
            (then
              (local.set $depth (i32.sub (local.get $depth) (i32.const 1)))
              (if (i32.eqz (local.get $depth))
                (then (return (i32.add (local.get $p) (i32.const 1)))))))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $next))
        (unreachable)))
    ;; number, true, false, null: up to the next delimiter
    (local.set $start (local.get $p))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $c (i32.load8_u (local.get $p)))
        (br_if $done (call $is_ws (local.get $c)))
        (br_if $done (i32.eq (local.get $c) (i32.const 44)))   ;; ','
        (br_if $done (i32.eq (local.get $c) (i32.const 125)))  ;; '}'
        (br_if $done (i32.eq (local.get $c) (i32.const 93)))   ;; ']'
        (br_if $done (i32.eq (local.get $c) (i32.const 58)))   ;; ':'
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $next)))
    (if (i32.eq (local.get $p) (local.get $start)) (then (return (i32.const 0))))
    (local.get $p))

  (func $memeq (param $a i32) (param $b i32) (param $n i32) (result i32)
    (loop $next
      (if (i32.eqz (local.get $n)) (then (return (i32.const 1))))
      (if (i32.ne (i32.load8_u (local.get $a)) (i32.load8_u (local.get $b)))
        (then (return (i32.const 0))))
      (local.set $a (i32.add (local.get $a) (i32.const 1)))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next))
    (unreachable))

  ;; The raw value of top-level key [$key, $key+$klen) in the JSON object at
  ;; [$p, $p+$len) (first occurrence): its address, its length in $vlen; 0 if
  ;; absent or if the text is not an object.
  (func $get (param $p i32) (param $len i32) (param $key i32) (param $klen i32) (result i32)
    (local $end i32) (local $k i32) (local $q i32) (local $v i32)
    (local.set $end (i32.add (local.get $p) (local.get $len)))
    (local.set $p (call $skip_ws (local.get $p) (local.get $end)))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 123)) (then (return (i32.const 0))))
    (local.set $p (i32.add (local.get $p) (i32.const 1)))
    (loop $next
      (local.set $p (call $skip_ws (local.get $p) (local.get $end)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      ;; '}' (end of the object) or anything else but a key: not found
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 34)) (then (return (i32.const 0))))
      (local.set $k (i32.add (local.get $p) (i32.const 1)))
      (local.set $q (call $skip_string (local.get $p) (local.get $end)))
      (if (i32.eqz (local.get $q)) (then (return (i32.const 0))))
      (local.set $p (call $skip_ws (local.get $q) (local.get $end)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 58)) (then (return (i32.const 0))))
      (local.set $v (call $skip_ws (i32.add (local.get $p) (i32.const 1)) (local.get $end)))
      (local.set $p (call $skip_value (local.get $v) (local.get $end)))
      (if (i32.eqz (local.get $p)) (then (return (i32.const 0))))
      ;; the key's bytes are [$k, $q - 1)
      (if (i32.eq (i32.sub (i32.sub (local.get $q) (i32.const 1)) (local.get $k)) (local.get $klen))
        (then
          (if (call $memeq (local.get $k) (local.get $key) (local.get $klen))
            (then
              (global.set $vlen (i32.sub (local.get $p) (local.get $v)))
              (return (local.get $v))))))
      (local.set $p (call $skip_ws (local.get $p) (local.get $end)))
      (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
      (if (i32.ne (i32.load8_u (local.get $p)) (i32.const 44)) (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $next))
    (unreachable))

  ;; Like $get, but only a string value counts as present.
  (func $get_string (param $p i32) (param $len i32) (param $key i32) (param $klen i32) (result i32)
    (local $v i32)
    (local.set $v (call $get (local.get $p) (local.get $len) (local.get $key) (local.get $klen)))
    (if (i32.eqz (local.get $v)) (then (return (i32.const 0))))
    (if (i32.ne (i32.load8_u (local.get $v)) (i32.const 34)) (then (return (i32.const 0))))
    (local.get $v))

  ;; Whether the raw value [$v, $v+$vl) is exactly the bytes [$s, $s+$sl).
  (func $token_eq (param $v i32) (param $vl i32) (param $s i32) (param $sl i32) (result i32)
    (if (i32.ne (local.get $vl) (local.get $sl)) (then (return (i32.const 0))))
    (call $memeq (local.get $v) (local.get $s) (local.get $sl)))

  ;; Whether [$p, $p+$n) is an integer literal: an optional '-' and one or more digits.
  (func $is_int (param $p i32) (param $n i32) (result i32)
    (local $c i32)
    (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))
    (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 45))
      (then
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (if (i32.eqz (local.get $n)) (then (return (i32.const 0))))))
    (loop $next
      (local.set $c (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
      (if (i32.gt_u (local.get $c) (i32.const 9)) (then (return (i32.const 0))))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br_if $next (local.get $n)))
    (i32.const 1))

  ;; ---- composing output ----

  ;; Opens an output buffer of $cap bytes; 0 when out of memory.
  (func $begin (param $cap i32) (result i32)
    (global.set $out_start (call $alloc (local.get $cap)))
    (global.set $out (global.get $out_start))
    (global.get $out_start))

  (func $emit (param $src i32) (param $n i32)
    (loop $next
      (if (i32.eqz (local.get $n)) (then (return)))
      (i32.store8 (global.get $out) (i32.load8_u (local.get $src)))
      (global.set $out (i32.add (global.get $out) (i32.const 1)))
      (local.set $src (i32.add (local.get $src) (i32.const 1)))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $next)))

  (func $out_len (result i32)
    (i32.sub (global.get $out) (global.get $out_start)))

  ;; Sends the output buffer; logs a warning [$warn, $warn+$wlen) if the host rejects it.
  (func $send_out (param $warn i32) (param $wlen i32)
    (if (i32.lt_s (call $send (global.get $out_start) (call $out_len)) (i32.const 0))
      (then (call $log (i32.const 3) (local.get $warn) (local.get $wlen)))))

  ;; Appends ,"conversation_id":<id> and ,"in_reply_to":<reply_with> when the
  ;; message [$msg, $msg+$len) has them as strings.
  (func $emit_threading (param $msg i32) (param $len i32)
    (local $v i32)
    (local.set $v (call $get_string (local.get $msg) (local.get $len) (i32.const 1049) (i32.const 15)))
    (if (local.get $v)
      (then
        (call $emit (i32.const 1102) (i32.const 19))
        (call $emit (local.get $v) (global.get $vlen))))
    (local.set $v (call $get_string (local.get $msg) (local.get $len) (i32.const 1064) (i32.const 10)))
    (if (local.get $v)
      (then
        (call $emit (i32.const 1121) (i32.const 15))
        (call $emit (local.get $v) (global.get $vlen)))))

  (func $on_init (param $ptr i32) (param $len i32) (result i32)
    (call $log (i32.const 2) (i32.const 1177) (i32.const 10))
    (i32.const 0))


  ;; ---- the agent ----

  (func $on_message (param $msg i32) (param $len i32) (result i32)
    (local $sender i32) (local $slen i32) (local $content i32) (local $clen i32)
    (local.set $sender (call $get_string (local.get $msg) (local.get $len) (i32.const 1036) (i32.const 6)))
    (if (i32.eqz (local.get $sender))
      (then
        (call $log (i32.const 3) (i32.const 1187) (i32.const 27))
        (return (i32.const 0))))
    (local.set $slen (global.get $vlen))
    (local.set $content (call $get (local.get $msg) (local.get $len) (i32.const 1042) (i32.const 7)))
    (local.set $clen (global.get $vlen))
    ;; everything copied comes from the message, so its length plus 256 bounds the reply
    (if (i32.eqz (call $begin (i32.add (local.get $len) (i32.const 256))))
      (then (return (i32.const 1))))
    (call $emit (i32.const 1141) (i32.const 36))
    (call $emit (local.get $sender) (local.get $slen))
    (call $emit (i32.const 1091) (i32.const 11))
    (if (local.get $content)
      (then (call $emit (local.get $content) (local.get $clen)))
      (else (call $emit (i32.const 1137) (i32.const 4))))
    (call $emit_threading (local.get $msg) (local.get $len))
    (call $emit (i32.const 1136) (i32.const 1))
    (call $send_out (i32.const 1214) (i32.const 19))
    (i32.const 0))

  ;; ---- constant strings (addresses 1024..; the heap starts at 4096) ----
  (data (i32.const 1024) "performative")  ;; k_performative, 12 bytes
  (data (i32.const 1036) "sender")  ;; k_sender, 6 bytes
  (data (i32.const 1042) "content")  ;; k_content, 7 bytes
  (data (i32.const 1049) "conversation_id")  ;; k_conversation_id, 15 bytes
  (data (i32.const 1064) "reply_with")  ;; k_reply_with, 10 bytes
  (data (i32.const 1074) "\"request\"")  ;; q_request, 9 bytes
  (data (i32.const 1083) "\"inform\"")  ;; q_inform, 8 bytes
  (data (i32.const 1091) ",\"content\":")  ;; c_content, 11 bytes
  (data (i32.const 1102) ",\"conversation_id\":")  ;; c_conversation_id, 19 bytes
  (data (i32.const 1121) ",\"in_reply_to\":")  ;; c_in_reply_to, 15 bytes
  (data (i32.const 1136) "}")  ;; rbrace, 1 bytes
  (data (i32.const 1137) "null")  ;; null, 4 bytes
  (data (i32.const 1141) "{\"performative\":\"inform\",\"receiver\":")  ;; inform_to, 36 bytes
  (data (i32.const 1177) "echo ready")  ;; ready, 10 bytes
  (data (i32.const 1187) "echo: message has no sender")  ;; no_sender, 27 bytes
  (data (i32.const 1214) "echo: send rejected")  ;; rejected, 19 bytes
)
