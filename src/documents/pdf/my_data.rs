//! The right-of-access overview as a document: per case, what it records about the reader and a
//! summary of who has looked at it.

use super::layout::{Layout, Meta, Style};
use super::words::{date, no, opt_date, time};
use super::Context;
use crate::http::error::AppError;
use crate::my_data::api::{MyCase, MyData};

pub fn my_data(data: &MyData, ctx: &Context) -> Result<Vec<u8>, AppError> {
    let mut l = Layout::new();
    l.title("Dine opplysninger i stafettloggen");
    l.paragraph(
        Style::Small,
        &format!(
            "For {} ({}) · laget {} · fødselsnumre er maskert",
            data.person.name,
            data.person.pid,
            time(data.generated_at)
        ),
    );
    l.gap(4.0);
    l.paragraph(
        Style::Body,
        &format!(
            "Du er med i {} sak(er) som du kan lese som foresatt eller som ungdommen saken gjelder. For \
             hver sak står det hva som er registrert om deg, og hvem som har lest eller endret saken.",
            data.cases.len()
        ),
    );
    if !data.complete {
        l.paragraph(
            Style::Label,
            "Oversikten viser bare de 500 nyeste sakene. Kontakt kommunen for resten.",
        );
    }
    for (i, case) in data.cases.iter().enumerate() {
        one_case(&mut l, i + 1, case, ctx);
    }
    l.finish(&Meta {
        title: "Stafettlogg – dine opplysninger".into(),
        footer: format!(
            "Stafettlogg · dine opplysninger · {}",
            time(data.generated_at)
        ),
        created: data.generated_at,
    })
}

fn one_case(l: &mut Layout, n: usize, c: &MyCase, ctx: &Context) {
    let s = &c.subject;
    l.heading(&format!("Sak {n}: {} {}", s.given_name, s.family_name));
    l.field("Saksnummer", &c.case_id.to_string());
    l.field(
        "Du leser som",
        if c.about_you {
            "ungdommen saken gjelder"
        } else {
            no(&c.basis)
        },
    );
    l.field("Fødselsdato", &opt_date(s.birth_date));
    if let Some(id) = &s.national_id {
        l.field("Fødselsnummer", id);
    }
    let level = match ctx.levels.get(&c.level) {
        Some(name) => format!("{} – {name}", c.level),
        None => c.level.to_string(),
    };
    l.field(
        "Status",
        &format!("{}, nivå {level}", no(c.status.as_str())),
    );
    l.field("Opprettet", &time(c.opened_at));
    if let Some(at) = c.closed_at {
        let reason = c.close_reason.map(|r| no(r.as_str())).unwrap_or("–");
        l.field("Avsluttet", &format!("{} ({reason})", time(at)));
    }
    about_you(l, c, ctx);
    super::case::access_summary(l, &c.access_log, false);
}

fn about_you(l: &mut Layout, c: &MyCase, ctx: &Context) {
    l.subheading("Du som deltaker");
    if c.you_as_participant.is_empty() {
        l.paragraph(Style::Body, "Du er ikke registrert som deltaker.");
    }
    for p in &c.you_as_participant {
        let mut what = vec![no(p.kind.as_str()).to_string()];
        if let Some(r) = p.relation {
            what.push(no(r.as_str()).to_string());
        }
        if p.parental_responsibility == Some(true) {
            what.push("foreldreansvar".into());
        }
        for contact in [&p.email, &p.phone].into_iter().flatten() {
            what.push(contact.clone());
        }
        l.field(&p.name, &what.join(", "));
        let left = p.left_at.map(|t| format!(", ute fra {}", time(t)));
        l.indented(
            Style::Small,
            &format!("Med fra {}{}", time(p.joined_at), left.unwrap_or_default()),
        );
    }
    l.subheading("Samtykker du har gitt");
    if c.consents_given.is_empty() {
        l.paragraph(Style::Body, "Ingen.");
    }
    for k in &c.consents_given {
        let services: Vec<String> = k
            .services
            .iter()
            .map(|s| ctx.services.get(s).cloned().unwrap_or_else(|| s.clone()))
            .collect();
        let mut text = format!(
            "{} – {}: {} ({}). Til {}.",
            date(k.valid_from),
            date(k.valid_until),
            k.purpose,
            no(k.form.as_str()),
            services.join(", ")
        );
        if let Some(at) = k.withdrawn_at {
            text.push_str(&format!(" Trukket tilbake {}.", time(at)));
        }
        l.indented(Style::Body, &text);
    }
    l.subheading("Innførsler du har skrevet");
    if c.entries_written.is_empty() {
        l.paragraph(Style::Body, "Ingen.");
    }
    for e in &c.entries_written {
        let kind = if e.corrects.is_some() {
            "rettelse"
        } else {
            no(e.kind.as_str())
        };
        l.indented(Style::Label, &format!("{} · {kind}", time(e.occurred_at)));
        if let Some(t) = &e.title {
            l.indented(Style::Body, t);
        }
        l.indented(Style::Body, &e.body);
    }
    plans_and_meetings(l, c);
}

/// The plans whose group the person is in, and the meetings they are invited to.
fn plans_and_meetings(l: &mut Layout, c: &MyCase) {
    if !c.plans_you_are_in.is_empty() {
        l.subheading("Planer der du er i ansvarsgruppen");
    }
    for p in &c.plans_you_are_in {
        let period = format!("fra {}", super::words::date(p.starts_on));
        l.indented(
            Style::Body,
            &format!(
                "{} ({}), {period}",
                no(p.kind.as_str()),
                no(p.state.as_str())
            ),
        );
    }
    if !c.meetings_you_are_invited_to.is_empty() {
        l.subheading("Møter du er invitert til");
    }
    for m in &c.meetings_you_are_invited_to {
        l.indented(
            Style::Body,
            &format!(
                "{} · {} ({})",
                time(m.starts_at),
                no(m.kind.as_str()),
                super::words::meeting_state(m.state)
            ),
        );
    }
}
