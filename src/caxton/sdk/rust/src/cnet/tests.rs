//! Unit tests of `cnet`, run natively (see the crate's README).
use super::*;
use crate::{json, mock};

struct Fixed {
    cost: Option<i64>,
    rejected: usize,
}

impl Participant for Fixed {
    fn bid(&mut self, cfp: &Message) -> Result<Bid> {
        Ok(match self.cost {
            Some(cost) if cfp.content()["numbers"].as_array().is_some() => {
                Bid::Propose(json!({"cost": cost}))
            }
            _ => Bid::Refuse("not taking work".into()),
        })
    }
    fn work(&mut self, accept: &Message) -> Result<Work> {
        Ok(match accept.content()["cost"].as_i64() {
            Some(c) => Work::Done(json!({"result": c * 2})),
            None => Work::Failed("no cost".into()),
        })
    }
    fn rejected(&mut self, _reject: &Message) -> Result<()> {
        self.rejected += 1;
        Ok(())
    }
}

fn incoming(text: &str) -> Message {
    Message::parse(text).unwrap()
}

#[test]
fn participant_answers_each_stage() {
    mock::reset();
    crate::set_identity("p1", "i");
    let mut p = Fixed {
        cost: Some(4),
        rejected: 0,
    };
    let cfp = incoming(
        r#"{"performative":"cfp","sender":"boss","conversation_id":"c","reply_with":"c-cfp","protocol":"fipa-contract-net","content":{"numbers":[1]}}"#,
    );
    assert!(participate(&mut p, &cfp).unwrap());
    let accept = incoming(
        r#"{"performative":"accept-proposal","sender":"boss","conversation_id":"c","reply_with":"c-accept","in_reply_to":"p1/c","content":{"cost":4}}"#,
    );
    assert!(participate(&mut p, &accept).unwrap());
    let reject =
        incoming(r#"{"performative":"reject-proposal","sender":"boss","conversation_id":"c"}"#);
    assert!(participate(&mut p, &reject).unwrap());
    assert!(!participate(
        &mut p,
        &incoming(r#"{"performative":"inform","sender":"boss"}"#)
    )
    .unwrap());
    assert_eq!(p.rejected, 1);
    let texts: Vec<String> = mock::sent().iter().map(Message::to_json).collect();
    assert_eq!(
        texts,
        [
            r#"{"performative":"propose","receiver":"boss","in_reply_to":"c-cfp","conversation_id":"c","protocol":"fipa-contract-net","reply_with":"p1/c","content":{"cost":4}}"#,
            r#"{"performative":"inform","receiver":"boss","in_reply_to":"c-accept","conversation_id":"c","protocol":"fipa-contract-net","content":{"result":8}}"#,
        ]
    );
    mock::reset();
    let mut refuser = Fixed {
        cost: None,
        rejected: 0,
    };
    participate(&mut refuser, &cfp).unwrap();
    assert_eq!(
        mock::sent()[0].content_json(),
        r#"{"reason":"not taking work"}"#
    );
    assert!(mock::sent()[0].is(Performative::Refuse));
}

fn answer(act: &str, from: &str, conv: &str, content: &str) -> Message {
    incoming(&format!(
        r#"{{"performative":"{}","sender":"{}","conversation_id":"{}","reply_with":"{}/{}","content":{}}}"#,
        act, from, conv, from, conv, content
    ))
}

#[test]
fn initiator_awards_the_cheapest_when_all_answered() {
    mock::reset();
    crate::set_identity("boss", "i");
    mock::set_now_ms(1000);
    let mut initiator = Initiator::default();
    let conv = initiator
        .call_for_proposals(&["a", "b", "c", "d"], json!({"numbers": [1, 2]}), 250)
        .unwrap();
    let cfp = &mock::sent()[0];
    assert_eq!(cfp.receivers(), ["a", "b", "c", "d"]);
    assert_eq!(cfp.reply_by(), Some("1970-01-01T00:00:01.250Z"));
    assert_eq!(cfp.reply_with(), Some(format!("{}-cfp", conv).as_str()));
    assert_eq!(cfp.protocol(), Some(PROTOCOL));

    let step = |i: &mut Initiator, m: Message| i.handle(&m).unwrap();
    assert_eq!(
        step(
            &mut initiator,
            answer("propose", "a", &conv, r#"{"cost":5}"#)
        ),
        Step::Waiting
    );
    assert_eq!(
        step(
            &mut initiator,
            answer("propose", "b", &conv, r#"{"cost":3}"#)
        ),
        Step::Waiting
    );
    assert_eq!(
        step(
            &mut initiator,
            answer("propose", "b", &conv, r#"{"cost":1}"#)
        ),
        Step::Ignored("a second answer from b".into())
    );
    assert_eq!(
        step(
            &mut initiator,
            answer("propose", "z", &conv, r#"{"cost":1}"#)
        ),
        Step::Ignored("z is not a participant".into())
    );
    assert_eq!(
        step(&mut initiator, answer("refuse", "c", &conv, "{}")),
        Step::Waiting
    );
    assert_eq!(
        step(&mut initiator, answer("propose", "x", "other", "{}")),
        Step::NotMine
    );
    mock::reset();
    let awarded = step(
        &mut initiator,
        answer("propose", "d", &conv, r#"{"cost":3}"#),
    );
    assert_eq!(
        awarded,
        Step::Awarded {
            conversation_id: conv.clone(),
            winner: Proposal {
                participant: "b".into(),
                content: json!({"cost": 3}),
                reply_with: Some(format!("b/{}", conv)),
            },
            rejected: vec!["a".into(), "d".into()],
            tally: Tally {
                expected: 4,
                proposals: 3,
                refusals: 1,
                failures: 0
            },
        }
    );
    let sent: Vec<(String, Vec<String>, Option<String>)> = mock::sent()
        .iter()
        .map(|m| {
            (
                m.performative_str().unwrap().to_string(),
                m.receivers().iter().map(|s| s.to_string()).collect(),
                m.in_reply_to().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(
        sent,
        [
            (
                "accept-proposal".into(),
                vec!["b".into()],
                Some(format!("b/{}", conv))
            ),
            (
                "reject-proposal".into(),
                vec!["a".into()],
                Some(format!("a/{}", conv))
            ),
            (
                "reject-proposal".into(),
                vec!["d".into()],
                Some(format!("d/{}", conv))
            ),
        ]
    );
    assert_eq!(
        mock::sent()[0].reply_with(),
        Some(format!("{}-accept", conv).as_str())
    );
    assert!(initiator.is_open(&conv));

    mock::reset();
    let late = step(
        &mut initiator,
        answer("propose", "a", &conv, r#"{"cost":0}"#),
    );
    assert_eq!(
        late,
        Step::Ignored("a late proposal from a, rejected".into())
    );
    assert_eq!(
        mock::sent()[0].content_json(),
        r#"{"reason":"the contract was already awarded"}"#
    );

    let done = step(
        &mut initiator,
        answer("inform", "b", &conv, r#"{"result":3}"#),
    );
    assert_eq!(
        done,
        Step::Done {
            conversation_id: conv.clone(),
            winner: "b".into(),
            result: json!({"result": 3})
        }
    );
    assert!(!initiator.is_open(&conv));
    initiator.forget(&conv);
    assert_eq!(
        step(&mut initiator, answer("inform", "b", &conv, "1")),
        Step::NotMine
    );
}

#[test]
fn initiator_decides_at_the_deadline_and_counts_platform_failures() {
    mock::reset();
    crate::set_identity("boss", "i");
    let mut initiator = Initiator::default();
    let conv = initiator
        .call_for_proposals(&["a", "gone", "silent"], json!({}), 100)
        .unwrap();
    let platform_failure = incoming(&format!(
        r#"{{"performative":"failure","sender":"caxton","conversation_id":"{0}","in_reply_to":"{0}-cfp","content":{{"error":"routing"}}}}"#,
        conv
    ));
    assert_eq!(initiator.handle(&platform_failure).unwrap(), Step::Waiting);
    assert_eq!(
        initiator
            .handle(&answer("propose", "a", &conv, r#"{"cost":2}"#))
            .unwrap(),
        Step::Waiting
    );
    let notice = incoming(&format!(
        r#"{{"performative":"inform","sender":"caxton","conversation_id":"{}","x-caxton-event":"deadline","content":{{}}}}"#,
        conv
    ));
    match initiator.handle(&notice).unwrap() {
        Step::Awarded { winner, tally, .. } => {
            assert_eq!(winner.participant, "a");
            assert_eq!(
                tally,
                Tally {
                    expected: 3,
                    proposals: 1,
                    refusals: 0,
                    failures: 1
                }
            );
        }
        other => panic!("{:?}", other),
    }
    let failed = incoming(&format!(
        r#"{{"performative":"failure","sender":"caxton","conversation_id":"{0}","in_reply_to":"{0}-accept","content":{{"error":"system"}}}}"#,
        conv
    ));
    assert_eq!(
        initiator.handle(&failed).unwrap(),
        Step::Failed {
            conversation_id: conv.clone(),
            winner: "a".into(),
            reason: json!({"error": "system"})
        }
    );
}

#[test]
fn initiator_without_acceptable_proposals() {
    mock::reset();
    let mut initiator = Initiator::default();
    let conv = initiator
        .call_for_proposals(&["a", "b"], json!({}), 100)
        .unwrap();
    initiator
        .handle(&answer("refuse", "a", &conv, "{}"))
        .unwrap();
    mock::reset();
    let step = initiator
        .handle(&answer("propose", "b", &conv, r#"{"price":2}"#))
        .unwrap();
    assert_eq!(
        step,
        Step::NoProposals {
            conversation_id: conv.clone(),
            tally: Tally {
                expected: 2,
                proposals: 1,
                refusals: 1,
                failures: 0
            }
        }
    );
    // The unacceptable proposal is still answered.
    assert!(mock::sent()[0].is(Performative::RejectProposal));
    assert!(!initiator.is_open(&conv));
    assert!(Initiator::default()
        .call_for_proposals::<&str>(&[], json!({}), 1)
        .is_err());
}
