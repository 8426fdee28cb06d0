//! The archive document of one case: the JSON export's `CaseDocument`, laid out for people, one section
//! per kind of record.

use std::collections::{BTreeMap, HashMap};

use super::layout::{Layout, Style};
use super::words::{date, no, opt_date, time};
use super::Context;
use crate::documents::api::{
    AccessRecord, CaseDocument, ConsentRecord, EntryRecord, MeasureRecord, ParticipantRecord,
    ResponsibleRecord,
};

/// Looks up what the document's records point at.
struct Index<'a> {
    doc: &'a CaseDocument,
    ctx: &'a Context,
    participants: HashMap<&'a str, &'a ParticipantRecord>,
    /// Entries by id, with their number in the log (1-based, in the order they were recorded).
    entries: HashMap<&'a str, (usize, &'a EntryRecord)>,
}

impl<'a> Index<'a> {
    fn new(doc: &'a CaseDocument, ctx: &'a Context) -> Index<'a> {
        Index {
            doc,
            ctx,
            participants: doc
                .participants
                .iter()
                .map(|p| (p.id.as_str(), p))
                .collect(),
            entries: doc
                .entries
                .iter()
                .enumerate()
                .map(|(i, e)| (e.id.as_str(), (i + 1, e)))
                .collect(),
        }
    }

    fn name(&self, participant_id: &str) -> String {
        self.participants
            .get(participant_id)
            .map(|p| p.name.clone())
            .unwrap_or_else(|| "(ukjent deltaker)".into())
    }

    fn service(&self, code: &str) -> String {
        match self.ctx.services.get(code) {
            Some(name) => format!("{name} ({code})"),
            None => code.to_string(),
        }
    }

    fn level(&self, level: i16) -> String {
        match self.ctx.levels.get(&level) {
            Some(name) => format!("{level} – {name}"),
            None => level.to_string(),
        }
    }
}

/// Lays out the whole case.
pub fn lay_out(l: &mut Layout, doc: &CaseDocument, ctx: &Context) {
    let ix = Index::new(doc, ctx);
    l.title("Stafettlogg – arkivutskrift");
    l.paragraph(
        Style::Small,
        &format!(
            "Sak {} · skrevet ut {} av {} · fødselsnumre er maskert",
            doc.case.id,
            time(ctx.printed_at),
            ctx.printed_by
        ),
    );
    subject(l, &ix);
    participants(l, &ix);
    consents(l, &ix);
    levels(l, &ix);
    decisions(l, &ix);
    measures(l, &ix);
    plans(l, &ix);
    meetings(l, &ix);
    entries(l, &ix);
    holders(l, &ix);
    closure(l, &ix);
    access_summary(l, &doc.access_log, true);
}

fn subject(l: &mut Layout, ix: &Index) {
    let c = &ix.doc.case;
    let s = &c.subject;
    l.heading("Saken gjelder");
    l.field("Navn", &format!("{} {}", s.given_name, s.family_name));
    l.field("Gjelder", no(s.kind.as_str()));
    l.field("Fødselsdato", &opt_date(s.birth_date));
    l.field("Fødselsnummer", s.national_id.as_deref().unwrap_or("–"));
    l.field("Status", no(c.status.as_str()));
    l.field("Nivå nå", &ix.level(c.level));
    l.field(
        "Opprettet",
        &format!(
            "{} i {} av {}",
            time(c.opened_at),
            ix.service(&c.opened_in_service),
            c.opened_by
        ),
    );
    if let Some(due) = c.decision_due {
        l.field("Frist for beslutning", &date(due));
    }
    let refs: Vec<String> = c
        .external_refs
        .iter()
        .map(|r| format!("{}: {}", r.system, r.id))
        .collect();
    if !refs.is_empty() {
        l.field("Referanser", &refs.join(", "));
    }
    l.field("Bekymring", &c.concern);
}

fn participants(l: &mut Layout, ix: &Index) {
    l.heading("Tjenester og deltakere");
    let mut services: Vec<&str> = vec![ix.doc.case.opened_in_service.as_str()];
    let named = ix
        .doc
        .participants
        .iter()
        .filter_map(|p| p.service.as_deref());
    let consented = ix
        .doc
        .consents
        .iter()
        .flat_map(|c| c.services.iter().map(String::as_str));
    for s in named.chain(consented) {
        if !services.contains(&s) {
            services.push(s);
        }
    }
    let services: Vec<String> = services.iter().map(|s| ix.service(s)).collect();
    l.field("Tjenester", &services.join("\n"));
    l.gap(4.0);
    for p in &ix.doc.participants {
        let mut what = vec![no(p.kind.as_str()).to_string()];
        if let Some(r) = p.relation {
            what.push(no(r.as_str()).to_string());
        }
        if p.parental_responsibility == Some(true) {
            what.push("foreldreansvar".into());
        }
        if let Some(s) = &p.service {
            what.push(ix.service(s));
        }
        if let Some(t) = p.title.as_ref().or(p.role.as_ref()) {
            what.push(t.clone());
        }
        if p.id == ix.doc.holder {
            what.push("stafettholder".into());
        }
        l.field(&p.name, &what.join(", "));
        let mut facts = format!("Med fra {}", time(p.joined_at));
        if let Some(left) = p.left_at {
            facts.push_str(&format!(", ute fra {}", time(left)));
        } else if !p.active {
            facts.push_str(", ikke lenger aktiv");
        }
        if let Some(id) = &p.national_id {
            facts.push_str(&format!(" · fødselsnummer {id}"));
        }
        l.indented(Style::Small, &facts);
    }
}

fn consent_state(c: &ConsentRecord, today: chrono::NaiveDate) -> &'static str {
    if c.withdrawn_at.is_some() {
        "trukket tilbake"
    } else if c.superseded_at.is_some() {
        "erstattet"
    } else if c.valid_until < today {
        "utløpt"
    } else if c.valid_from > today {
        "ikke gyldig ennå"
    } else {
        "gyldig"
    }
}

fn consents(l: &mut Layout, ix: &Index) {
    l.heading("Samtykker");
    if ix.doc.consents.is_empty() {
        l.paragraph(Style::Body, "Ingen samtykker er registrert.");
    }
    let today = ix
        .ctx
        .printed_at
        .with_timezone(&chrono_tz::Europe::Oslo)
        .date_naive();
    for (i, c) in ix.doc.consents.iter().enumerate() {
        l.subheading(&format!(
            "Samtykke {} ({}): {} – {}",
            i + 1,
            consent_state(c, today),
            date(c.valid_from),
            date(c.valid_until)
        ));
        let givers: Vec<String> = c.given_by.iter().map(|g| ix.name(g)).collect();
        l.field("Gitt av", &givers.join(", "));
        let services: Vec<String> = c.services.iter().map(|s| ix.service(s)).collect();
        l.field("Til tjenestene", &services.join(", "));
        l.field("Formål", &c.purpose);
        let mut form = no(c.form.as_str()).to_string();
        if let Some(d) = &c.document_ref {
            form.push_str(&format!(" (dokument {d})"));
        }
        l.field("Form", &form);
        l.field(
            "Registrert",
            &format!("{} av {}", time(c.recorded_at), c.recorded_by_name),
        );
        if let Some(at) = c.superseded_at {
            l.field("Erstattet", &time(at));
        }
        if let Some(at) = c.withdrawn_at {
            let by = c.withdrawn_by.as_deref().map(|p| ix.name(p));
            let reason = c.withdrawal_reason.as_deref().unwrap_or("");
            l.field(
                "Trukket tilbake",
                &format!("{} av {}. {reason}", time(at), by.as_deref().unwrap_or("–")),
            );
        }
    }
}

fn levels(l: &mut Layout, ix: &Index) {
    l.heading("Nivåhistorikk");
    l.field("Opprettet på", &ix.level(0));
    for c in &ix.doc.level_changes {
        l.field(
            &date(c.decided_on),
            &format!(
                "Fra nivå {} til nivå {}. {}",
                c.from_level,
                ix.level(c.to_level),
                c.reason
            ),
        );
        l.indented(
            Style::Small,
            &format!(
                "Registrert {} av {}",
                time(c.recorded_at),
                c.recorded_by_name
            ),
        );
    }
}

/// The level-0 decisions this document holds (a report only in the stafettholder's: rule 11).
fn decisions(l: &mut Layout, ix: &Index) {
    if ix.doc.decisions.is_empty() {
        return;
    }
    l.heading("Beslutninger på nivå 0");
    for d in &ix.doc.decisions {
        let note = d.note.as_deref().unwrap_or("");
        l.field(
            &date(d.decided_on),
            &format!("{}. {note}", super::words::decision_outcome(d.outcome)),
        );
        l.indented(
            Style::Small,
            &format!(
                "{} · registrert {} av {}",
                ix.service(&d.service),
                time(d.recorded_at),
                d.recorded_by_name
            ),
        );
    }
}

fn responsible(ix: &Index, r: &ResponsibleRecord) -> String {
    match r {
        ResponsibleRecord::Service { service } => ix.service(service),
        ResponsibleRecord::Participant { participant_id } => ix.name(participant_id),
        ResponsibleRecord::Subject => format!("{} selv", ix.doc.case.subject.given_name),
    }
}

fn measures(l: &mut Layout, ix: &Index) {
    l.heading("Tiltak og evalueringer");
    if ix.doc.measures.is_empty() {
        l.paragraph(Style::Body, "Ingen tiltak er registrert.");
    }
    for m in &ix.doc.measures {
        measure(l, ix, m);
    }
}

fn measure(l: &mut Layout, ix: &Index, m: &MeasureRecord) {
    l.subheading(&format!("{} ({})", m.title, no(m.state.as_str())));
    l.field("Mål", &m.goal);
    if let Some(d) = &m.description {
        l.field("Beskrivelse", d);
    }
    l.field("Ansvarlig", &responsible(ix, &m.responsible));
    l.field(
        "Periode",
        &format!(
            "Fra {}, evalueres innen {}",
            date(m.start_date),
            date(m.evaluate_by)
        ),
    );
    for e in &m.evaluations {
        l.gap(2.0);
        l.indented(
            Style::Label,
            &format!(
                "Evaluering {} av {}: {}",
                date(e.evaluated_on),
                e.evaluated_by_name,
                no(e.outcome.as_str())
            ),
        );
        l.indented(Style::Body, &e.assessment);
        if let Some(view) = &e.child_view {
            l.indented(Style::Body, &format!("Barnets stemme: {view}"));
        }
        if let Some(next) = e.next_evaluate_by {
            l.indented(
                Style::Small,
                &format!("Neste evaluering innen {}", date(next)),
            );
        }
    }
}

fn plans(l: &mut Layout, ix: &Index) {
    if ix.doc.plans.is_empty() {
        return;
    }
    l.heading("Planer");
    for p in &ix.doc.plans {
        l.subheading(&format!(
            "{} ({})",
            no(p.kind.as_str()),
            no(p.state.as_str())
        ));
        l.field("Eier", &ix.service(&p.owner_service));
        if let Some(c) = &p.coordinator {
            l.field("Koordinator", &ix.name(c));
        }
        let period = match p.ends_on {
            Some(end) => format!("{} – {}", date(p.starts_on), date(end)),
            None => format!("Fra {}", date(p.starts_on)),
        };
        l.field("Periode", &period);
        for goal in &p.goals {
            l.field("Mål", goal);
        }
        for m in &p.members {
            let role = m
                .role
                .as_deref()
                .map(|r| format!(" ({r})"))
                .unwrap_or_default();
            l.field(
                "Ansvarsgruppe",
                &format!("{}{role}", ix.name(&m.participant_id)),
            );
        }
        if let Some(reason) = &p.end_reason {
            l.field("Avsluttet", reason);
        }
    }
}

fn meetings(l: &mut Layout, ix: &Index) {
    if ix.doc.meetings.is_empty() {
        return;
    }
    l.heading("Møter");
    for m in &ix.doc.meetings {
        l.subheading(&format!(
            "{} {} ({})",
            no(m.kind.as_str()),
            time(m.starts_at),
            super::words::meeting_state(m.state)
        ));
        if let Some(place) = &m.place {
            l.field("Sted", place);
        }
        if let Some(agenda) = &m.agenda {
            l.field("Saksliste", agenda);
        }
        for i in &m.invitees {
            l.field(
                "Invitert",
                &format!(
                    "{} – {}",
                    ix.name(&i.participant_id),
                    no(i.response.as_str())
                ),
            );
        }
        if let Some(reason) = &m.cancel_reason {
            l.field("Avlyst", reason);
        }
    }
}

fn entries(l: &mut Layout, ix: &Index) {
    l.heading("Logg");
    if ix.doc.entries.is_empty() {
        l.paragraph(Style::Body, "Loggen er tom.");
    }
    // Corrections point at what they correct; the corrected entry says it was corrected, by which.
    let mut corrected_by: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, e) in ix.doc.entries.iter().enumerate() {
        if let Some(target) = &e.corrects {
            corrected_by.entry(target.as_str()).or_default().push(i + 1);
        }
    }
    for (i, e) in ix.doc.entries.iter().enumerate() {
        entry(l, ix, i + 1, e, corrected_by.get(e.id.as_str()));
    }
}

fn entry(l: &mut Layout, ix: &Index, n: usize, e: &EntryRecord, corrections: Option<&Vec<usize>>) {
    let kind = match &e.corrects {
        Some(target) => match ix.entries.get(target.as_str()) {
            Some((m, _)) => format!("RETTELSE av innførsel {m}"),
            None => "RETTELSE".to_string(),
        },
        None => no(e.kind.as_str()).to_string(),
    };
    l.subheading(&format!(
        "{n}. {} · {kind} · {}",
        time(e.occurred_at),
        e.author_name
    ));
    if e.recorded_at
        .signed_duration_since(e.occurred_at)
        .num_minutes()
        .abs()
        >= 1
    {
        l.paragraph(Style::Small, &format!("Registrert {}", time(e.recorded_at)));
    }
    if let Some(ms) = corrections {
        let list: Vec<String> = ms.iter().map(|m| m.to_string()).collect();
        l.paragraph(
            Style::Label,
            &format!(
                "Denne innførselen er rettet i innførsel {}.",
                list.join(", ")
            ),
        );
    }
    if let Some(t) = &e.title {
        l.paragraph(Style::Label, t);
    }
    l.paragraph(Style::Body, &e.body);
    if !e.attendees.is_empty() {
        let names: Vec<String> = e.attendees.iter().map(|a| ix.name(a)).collect();
        l.field("Til stede", &names.join(", "));
    }
    if let Some(d) = &e.decisions {
        l.field("Vedtak / avtaler", d);
    }
    if let Some(next) = e.next_meeting {
        l.field("Neste møte", &time(next));
    }
}

fn holders(l: &mut Layout, ix: &Index) {
    l.heading("Stafettholdere");
    if ix.doc.holder_periods.is_empty() {
        l.field("Hele perioden", &ix.name(&ix.doc.holder));
    }
    for p in &ix.doc.holder_periods {
        let until = p.to.map(time).unwrap_or_else(|| "nå".into());
        let who = ix.participants.get(p.participant_id.as_str());
        let service = who
            .and_then(|w| w.service.as_deref())
            .map(|s| format!(" ({})", ix.service(s)))
            .unwrap_or_default();
        l.field(
            &ix.name(&p.participant_id),
            &format!("{} – {until}{service}", time(p.from)),
        );
    }
    for r in &ix.doc.reassignments {
        l.indented(
            Style::Small,
            &format!(
                "Flyttet {} av leder {} ({}): fra {} til {} ({})",
                time(r.at),
                r.by_name,
                no(r.reason.as_str()),
                ix.name(&r.from_participant),
                r.to_name,
                ix.service(&r.to_service)
            ),
        );
    }
    for h in &ix.doc.handovers {
        l.indented(
            Style::Small,
            &format!(
                "Overføring foreslått {} fra {} til {} ({}): {}, {}",
                time(h.proposed_at),
                ix.name(&h.from),
                h.to.name,
                ix.service(&h.to.service),
                no(h.reason.as_str()),
                no(h.state.as_str())
            ),
        );
    }
}

fn closure(l: &mut Layout, ix: &Index) {
    let c = &ix.doc.case;
    l.heading("Avslutning");
    for k in &ix.doc.closings {
        l.field(
            "Avsluttet før",
            &format!(
                "{} ({}), gjenåpnet {}",
                time(k.closed_at),
                no(k.close_reason.as_str()),
                time(k.reopened_at)
            ),
        );
    }
    match c.closed_at {
        Some(at) => {
            l.field("Avsluttet", &time(at));
            let reason = c.close_reason.map(|r| no(r.as_str())).unwrap_or("–");
            l.field("Grunn", reason);
            if let Some(note) = &c.close_note {
                l.field("Merknad", note);
            }
            // The tombstone of a case whose retention period ran out (crate::jobs::retention).
            if let Some(purged) = c.purged_at {
                l.field(
                    "Slettet",
                    &format!(
                        "{}: oppbevaringstiden er ute, og personopplysningene i saken er slettet",
                        time(purged)
                    ),
                );
            }
        }
        None => l.paragraph(
            Style::Body,
            "Saken var ikke avsluttet da dokumentet ble skrevet ut.",
        ),
    }
}

/// Who looked at the case, per person and role: how often, doing what, and when last. A section of its
/// own in the case's document, part of each case in the overview of one's data.
pub fn access_summary(l: &mut Layout, log: &[AccessRecord], own_section: bool) {
    if own_section {
        l.heading("Tilgangslogg – sammendrag");
    } else {
        l.subheading("Hvem har lest eller endret saken");
    }
    let (Some(first), Some(last)) = (log.first(), log.last()) else {
        l.paragraph(Style::Body, "Ingen har åpnet saken.");
        return;
    };
    l.paragraph(
        Style::Body,
        &format!(
            "{} hendelser fra {} til {}. Hver lesing og endring av saken blir registrert.",
            log.len(),
            time(first.at),
            time(last.at)
        ),
    );
    l.gap(3.0);
    type Key<'a> = (&'a str, &'a str);
    let mut by_actor: BTreeMap<Key, (usize, BTreeMap<&str, usize>, &AccessRecord)> =
        BTreeMap::new();
    for a in log {
        let e = by_actor
            .entry((a.actor_name.as_str(), a.actor_role.as_str()))
            .or_insert((0, BTreeMap::new(), a));
        e.0 += 1;
        *e.1.entry(a.action.as_str()).or_default() += 1;
        e.2 = a;
    }
    let mut rows: Vec<_> = by_actor.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    for ((name, role), (count, actions, latest)) in rows {
        let actions: Vec<String> = actions
            .iter()
            .map(|(action, n)| format!("{} {n}", no(action)))
            .collect();
        let times = if count == 1 { "gang" } else { "ganger" };
        l.field(
            name,
            &format!(
                "{} · {count} {times}: {}. Sist {}",
                no(role),
                actions.join(", "),
                time(latest.at)
            ),
        );
    }
}
