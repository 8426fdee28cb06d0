//! How a handover works (rule 6), all in this folder:
//!
//! 1. The stafettholder proposes (`POST /cases/{id}/handovers`) to a professional of their own service or
//!    of a service the effective consent covers; at most one proposal is pending per case.
//! 2. The recipient accepts or declines; the holder may cancel. Until an accept, the old holder keeps the
//!    role. A pending handover past its answer-by date is `expired` (computed when read): it can no
//!    longer be accepted, and the holder may propose again.
//! 3. Accept, in one transaction with the case row locked: the recipient becomes an active professional
//!    participant if not already, the holder changes, the holder period passes on without a gap
//!    (`store.rs`, with who held the relay when), and the previous holder leaves only if the proposal
//!    said so.
//! 4. Accept, decline and cancel race safely: each locks the case and changes the handover only while it
//!    is still pending, so exactly one wins and the others get 409.
//! 5. When the holder is away or has left, a leader of the holder's service reassigns the role at once
//!    (`handlers::reassign`, its rules in `rules.rs`): no proposal, no accept, rule 3 and the holder periods as for an accept.
//! 6. Who may do each step is decided in `crate::policy::handovers` (propose: `Need::Holder`; answer: the
//!    recipient; cancel: the holder) and `crate::policy::leaders` (reassign). The case's lock makes a
//!    reassign and a racing accept or cancel run one after the other.
//! 7. The database guarantees the rest: one holder per open case, one pending handover per case, holder
//!    periods without overlap or gap (migrations/..._handovers).

pub mod api;
pub mod handlers;
pub mod holder;
pub mod rules;
pub mod store;

pub fn configure(cfg: &mut utoipa_actix_web::service_config::ServiceConfig) {
    cfg.service(handlers::list_handovers)
        .service(handlers::propose)
        .service(handlers::accept)
        .service(handlers::decline)
        .service(handlers::cancel)
        .service(handlers::inbox)
        .service(handlers::reassign);
}
