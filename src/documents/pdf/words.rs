//! The document is read by Norwegian families and archivists: the API's words in bokmål, and dates and
//! times as Norwegians write them, in Norwegian time.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Europe::Oslo;

/// The bokmål for one of the API's enum words; a word not listed here (a new one) is shown as it is.
pub fn no(word: &str) -> &str {
    match word {
        // Subjects and participants
        "child" => "barn",
        "youth" => "ungdom",
        "pregnant" => "gravid",
        "family" => "familie",
        "professional" => "fagperson",
        "guardian" => "foresatt",
        "mother" => "mor",
        "father" => "far",
        "foster_parent" => "fosterforelder",
        "other" => "annen",
        // Cases
        "open" => "åpen",
        "closed" => "avsluttet",
        "goal_reached" => "målet er nådd",
        "no_need" => "ikke behov",
        "guardians_ended" => "foresatte avsluttet",
        "consent_withdrawn" => "samtykket ble trukket tilbake",
        "consent_expired" => "samtykket utløp",
        "moved_to_individual_plan" => "overført til individuell plan",
        "moved_away" => "flyttet",
        // Consents
        "written" => "skriftlig",
        "oral" => "muntlig",
        "digital" => "digitalt",
        // Measures and evaluations
        "planned" => "planlagt",
        "active" => "aktivt",
        "completed" => "fullført",
        "stopped" => "avsluttet",
        "continue" => "fortsette",
        "adjust" => "justere",
        "stop" => "avslutte",
        // Plans and meetings
        "draft" => "utkast",
        "ended" => "avsluttet",
        "ip" => "individuell plan (IP)",
        "iop" => "individuell opplæringsplan (IOP)",
        "iup" => "individuell utviklingsplan (IUP)",
        "aktivitetsplan" => "aktivitetsplan",
        "samarbeidsmote" => "samarbeidsmøte",
        "ansvarsgruppe" => "ansvarsgruppemøte",
        "evaluering" => "evalueringsmøte",
        "held" => "holdt",
        // Handovers
        "transition" => "overgang",
        "change_of_service" => "bytte av tjeneste",
        "absence" => "fravær",
        "left" => "sluttet",
        "workload" => "arbeidsmengde",
        "pending" => "venter på svar",
        "accepted" => "akseptert",
        "declined" => "avslått",
        "cancelled" => "trukket",
        // Log entries
        "note" => "notat",
        "meeting" => "møte",
        "conversation" => "samtale",
        "lysglimt" => "lysglimt",
        "decision" => "beslutning",
        // Access events
        "read" => "lest",
        "list" => "listet",
        "create" => "opprettet",
        "update" => "endret",
        "close" => "avsluttet",
        "export" => "eksportert",
        "withdraw" => "trukket tilbake",
        "deactivate" => "deaktivert",
        "propose" => "foreslått",
        "accept" => "akseptert",
        "decline" => "avslått",
        "cancel" => "trukket",
        "import" => "importert",
        "admin" => "administrator",
        "integration" => "integrasjon",
        "leader" => "leder",
        "system" => "systemet",
        other => other,
    }
}

/// A meeting's state: a cancelled meeting is `avlyst`, where a cancelled handover is `trukket`.
/// How a level-0 period ended, in Norwegian.
pub fn decision_outcome(outcome: crate::decisions::api::DecisionOutcome) -> &'static str {
    use crate::decisions::api::DecisionOutcome::*;
    match outcome {
        Close => "avslutte saken",
        Level1 => "gå videre til nivå 1",
        Level2 => "gå videre til nivå 2",
        ReportChildWelfare => "bekymringsmelding sendt til barnevernet",
    }
}

pub fn meeting_state(state: crate::meetings::api::MeetingState) -> &'static str {
    use crate::meetings::api::MeetingState;
    match state {
        MeetingState::Planned => "planlagt",
        MeetingState::Held => "holdt",
        MeetingState::Cancelled => "avlyst",
    }
}

pub fn date(d: NaiveDate) -> String {
    d.format("%d.%m.%Y").to_string()
}

pub fn time(t: DateTime<Utc>) -> String {
    t.with_timezone(&Oslo)
        .format("%d.%m.%Y kl. %H:%M")
        .to_string()
}

pub fn opt_date(d: Option<NaiveDate>) -> String {
    d.map(date).unwrap_or_else(|| "–".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_norwegian_local_time() {
        let summer: DateTime<Utc> = "2026-06-01T10:00:00Z".parse().unwrap();
        assert_eq!(time(summer), "01.06.2026 kl. 12:00");
        let winter: DateTime<Utc> = "2026-01-15T23:30:00Z".parse().unwrap();
        assert_eq!(time(winter), "16.01.2026 kl. 00:30");
    }
}
