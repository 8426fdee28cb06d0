// The README's "A case from worry to evaluation" walkthrough plus "The transition: kindergarten ->
// school", run through a client whose every path, parameter and body is typed from the OpenAPI contract
// (generated/schema.d.ts, made by `npm run generate`). A change of the contract that breaks what a client
// relies on fails `npm run typecheck`; a server that does not do what the walkthrough expects fails here.
//
// Inputs (environment):
//   STAFETTLOGG_URL     the server, e.g. http://127.0.0.1:8080 (no /api/v1)
//   STAFETTLOGG_TOKENS  JSON {"admin","ola","pia","sara","kari"}: tenant 3805; admin = role admin;
//                       ola/pia/sara = professionals in barnehage-solstua/ppt-vest/skole-bakke;
//                       kari = guardian with pid 02858810100
//   STAFETTLOGG_TIMEOUT_MS  per request (default 15000)
//
// Prints one line per step; exits 1 with a message naming the step on the first mismatch. Never prints
// names or national identity numbers.

import createClient, { type Client } from "openapi-fetch";
import type { components, paths } from "../generated/schema.js";
import {
  addDays,
  addMonths,
  CheckError,
  describeBody,
  env,
  eq,
  fail,
  includesAll,
  ok,
  osloToday,
  same,
  truthy,
} from "./check.js";

type Schemas = components["schemas"];
type Api = Client<paths>;

type Who = "admin" | "ola" | "pia" | "sara" | "kari";

const TENANT = "3805";
const KINDERGARTEN = "barnehage-solstua";
const PPT = "ppt-vest";
const SCHOOL = "skole-bakke";
// Synthetic test numbers (the README's); never printed.
const CHILD_NATIONAL_ID = "14832010082";
const MOTHER_NATIONAL_ID = "02858810100";
const FATHER_NATIONAL_ID = "09918610100";

function readTokens(): Record<Who, string> {
  const raw = env("STAFETTLOGG_TOKENS");
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new CheckError("STAFETTLOGG_TOKENS is not JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new CheckError("STAFETTLOGG_TOKENS must be a JSON object");
  }
  const entries = new Map(Object.entries(parsed));
  const token = (who: Who): string => {
    const value = entries.get(who);
    if (typeof value !== "string" || value.length === 0) {
      throw new CheckError(`STAFETTLOGG_TOKENS has no token for "${who}"`);
    }
    return value;
  };
  return { admin: token("admin"), ola: token("ola"), pia: token("pia"), sara: token("sara"), kari: token("kari") };
}

function clientFor(baseUrl: string, token: string, timeoutMs: number): Api {
  return createClient<paths>({
    baseUrl,
    headers: { Authorization: `Bearer ${token}` },
    // Never hang: every request has a deadline.
    fetch: (request: Request) => fetch(request, { signal: AbortSignal.timeout(timeoutMs) }),
  });
}

/** What openapi-fetch returns; `data` is typed from the operation's 2xx response in the contract. */
interface Outcome<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** Awaits a call, fails the step unless the status is `expected` and a body came back. */
async function expectStatus<T>(step: string, expected: number, call: Promise<Outcome<T>>): Promise<{ data: T; response: Response }> {
  let outcome: Outcome<T>;
  try {
    outcome = await call;
  } catch (e) {
    fail(step, `request failed: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  const { data, error, response } = outcome;
  if (response.status !== expected) {
    fail(step, `expected HTTP ${expected}, got ${response.status}: ${describeBody(error ?? data)} (X-Request-Id ${response.headers.get("X-Request-Id") ?? "none"})`);
  }
  if (data === undefined) {
    fail(step, `HTTP ${expected} without a body`);
  }
  return { data, response };
}

function etagOf(step: string, response: Response): string {
  const etag = response.headers.get("ETag");
  if (!etag) {
    fail(step, "no ETag header in the response");
  }
  return etag;
}

async function main(): Promise<void> {
  const baseUrl = env("STAFETTLOGG_URL").replace(/\/+$/, "");
  const timeoutMs = Number(process.env.STAFETTLOGG_TIMEOUT_MS ?? "15000");
  const tokens = readTokens();
  const admin = clientFor(baseUrl, tokens.admin, timeoutMs);
  const ola = clientFor(baseUrl, tokens.ola, timeoutMs);
  const pia = clientFor(baseUrl, tokens.pia, timeoutMs);
  const sara = clientFor(baseUrl, tokens.sara, timeoutMs);
  const kari = clientFor(baseUrl, tokens.kari, timeoutMs);

  const today = osloToday();
  const run = Math.random().toString(36).slice(2, 10);
  const started = Date.now();

  // 0. The tokens are who the walkthrough thinks they are.
  {
    const step = "tokens";
    // [client, key in STAFETTLOGG_TOKENS, role, service, whether the walkthrough relies on the sub]
    const expectations: [Api, Who, Schemas["Role"], string | null, boolean][] = [
      [admin, "admin", "admin", null, false],
      [ola, "ola", "professional", KINDERGARTEN, true],
      [pia, "pia", "professional", PPT, true],
      [sara, "sara", "professional", SCHOOL, true],
      [kari, "kari", "guardian", null, false],
    ];
    for (const [client, sub, role, service, subMatters] of expectations) {
      const { data: me } = await expectStatus(`${step} (${sub})`, 200, client.GET("/api/v1/me"));
      if (subMatters) eq(step, `${sub}: user_id (the token's sub)`, me.user_id, sub);
      if (role === "guardian") truthy(step, `${sub}: a guardian token without pid`, typeof me.pid === "string" && me.pid.length > 0);
      eq(step, `${sub}: tenant`, me.tenant, TENANT);
      includesAll(step, `${sub}: roles`, me.roles, [role]);
      if (service !== null) includesAll(step, `${sub}: services`, me.services, [service]);
    }
    ok(step, "GET /api/v1/me -> 200 x5 (admin, 3 professionals, 1 guardian)");
  }

  // 1. The administrator registers the three services (a fresh database: 201; the shared dev server: 409).
  {
    const step = "create services";
    const wanted: Schemas["NewServiceRequest"][] = [
      { code: KINDERGARTEN, name: "Solstua barnehage", kind: "barnehage", active: true },
      { code: PPT, name: "PPT Vest", kind: "ppt", active: true },
      { code: SCHOOL, name: "Bakke skole", kind: "skole", active: true },
    ];
    const statuses: string[] = [];
    for (const service of wanted) {
      const { data, error, response } = await admin.POST("/api/v1/services", { body: service });
      if (response.status === 201 && data) {
        eq(step, "code", data.code, service.code);
        eq(step, "kind", data.kind, service.kind);
        eq(step, "active", data.active, true);
        truthy(step, "201 without Location", response.headers.get("Location") !== null);
      } else if (response.status === 409 && error) {
        eq(step, "problem type", error.type, "urn:stafettlogg:problem:conflict");
      } else {
        fail(step, `${service.code}: expected 201 or 409, got ${response.status}: ${describeBody(error ?? data)}`);
      }
      statuses.push(`${service.code} ${response.status}`);
    }
    const { data: list } = await expectStatus(step, 200, admin.GET("/api/v1/services", { params: { query: { limit: 200 } } }));
    includesAll(step, "services listed", list.items.map((s) => s.code), wanted.map((s) => s.code));
    ok(step, `POST /api/v1/services -> ${statuses.join(", ")}`);
  }

  // 2. Ola, pedagogical leader in the kindergarten, opens a case at level 0.
  const openRequest: Schemas["OpenCaseRequest"] = {
    service: KINDERGARTEN,
    concern: "Emma trekker seg unna leken og virker trist.",
    subject: { kind: "child", given_name: "Emma", family_name: "Testesen", birth_date: "2020-03-14", national_id: CHILD_NATIONAL_ID },
    external_refs: [{ system: "e2e-walkthrough", id: `run-${run}` }],
  };
  const opened = await (async () => {
    const step = "open case";
    const { data: c, response } = await expectStatus(step, 201, ola.POST("/api/v1/cases", { body: openRequest }));
    eq(step, "level", c.level, 0);
    eq(step, "status", c.status, "open");
    eq(step, "municipality", c.municipality, TENANT);
    eq(step, "opened_in_service", c.opened_in_service, KINDERGARTEN);
    eq(step, "holder.user_id", c.holder.user_id, "ola");
    eq(step, "holder.service", c.holder.service, KINDERGARTEN);
    eq(step, "subject.kind", c.subject.kind, "child");
    eq(step, "subject.birth_date", c.subject.birth_date, "2020-03-14");
    same(step, "subject.national_id (in full for the holder)", c.subject.national_id, CHILD_NATIONAL_ID);
    same(step, "concern", c.concern, openRequest.concern);
    truthy(step, "a case at level 0 has a decision_due", typeof c.decision_due === "string");
    truthy(step, "external_refs echo the reference", c.external_refs.some((r) => r.system === "e2e-walkthrough" && r.id === `run-${run}`));
    const location = response.headers.get("Location");
    truthy(step, `Location ${JSON.stringify(location)} does not name the case`, location !== null && location.endsWith(`/cases/${c.id}`));
    const etag = etagOf(step, response);
    ok(step, `POST /api/v1/cases -> 201 (level 0, holder ola, ETag ${etag})`);
    return c;
  })();
  const caseId = opened.id;
  const holderParticipant = opened.holder.participant_id;
  const path = { id: caseId };

  // The case's current ETag, read from a GET as a client would before a change.
  async function currentEtag(step: string, client: Api = ola): Promise<{ etag: string; view: Schemas["CaseView"] }> {
    const { data, response } = await expectStatus(`${step} (GET case)`, 200, client.GET("/api/v1/cases/{id}", { params: { path } }));
    return { etag: etagOf(step, response), view: data };
  }

  // 3. Both guardians, with parental responsibility.
  async function addGuardian(relation: Schemas["Relation"], name: string, nationalId: string): Promise<string> {
    const step = `add guardian (${relation})`;
    const body: Schemas["NewParticipant"] = { kind: "guardian", name, relation, parental_responsibility: true, national_id: nationalId };
    const { data: p, response } = await expectStatus(step, 201, ola.POST("/api/v1/cases/{id}/participants", { params: { path }, body }));
    eq(step, "kind", p.kind, "guardian");
    eq(step, "relation", p.relation, relation);
    eq(step, "parental_responsibility", p.parental_responsibility, true);
    eq(step, "active", p.active, true);
    same(step, "name", p.name, name);
    same(step, "national_id (in full for the holder)", p.national_id, nationalId);
    truthy(step, "201 without Location", response.headers.get("Location") !== null);
    ok(step, `POST .../participants -> 201`);
    return p.id;
  }
  const mother = await addGuardian("mother", "Kari Testesen", MOTHER_NATIONAL_ID);
  const father = await addGuardian("father", "Per Testesen", FATHER_NATIONAL_ID);

  // 4. Both consent, in writing, to sharing with the kindergarten, PPT and the school.
  const consentServices = [KINDERGARTEN, PPT, SCHOOL];
  const consentId = await (async () => {
    const step = "record consent";
    const body: Schemas["ConsentInput"] = {
      given_by: [mother, father],
      services: consentServices,
      purpose: "Samarbeid om Emmas trivsel og språk, og overgangen til skolen",
      valid_from: today,
      form: "written",
    };
    const { data: consent } = await expectStatus(step, 201, ola.POST("/api/v1/cases/{id}/consents", { params: { path }, body }));
    eq(step, "state", consent.state, "active");
    eq(step, "form", consent.form, "written");
    eq(step, "valid_from", consent.valid_from, today);
    includesAll(step, "services", consent.services, consentServices);
    includesAll(step, "given_by", consent.given_by, [mother, father]);
    eq(step, "recorded_by.user_id", consent.recorded_by.user_id, "ola");
    truthy(step, `valid_until ${consent.valid_until} is not after valid_from`, consent.valid_until > today);
    ok(step, `POST .../consents -> 201 (state active, valid until ${consent.valid_until})`);
    return consent.id;
  })();

  {
    const step = "effective consent";
    const { data: eff } = await expectStatus(step, 200, ola.GET("/api/v1/cases/{id}/consents/effective", { params: { path } }));
    eq(step, "effective", eff.effective, true);
    includesAll(step, "services", eff.services, consentServices);
    includesAll(step, "givers", eff.givers, [mother, father]);
    includesAll(step, "consent_ids", eff.consent_ids, [consentId]);
    eq(step, "not_effective count", eff.not_effective.length, 0);
    const { view } = await currentEtag(step);
    eq(step, "case.consent.effective", view.consent.effective, true);
    includesAll(step, "case.consent.services", view.consent.services, consentServices);
    ok(step, `GET .../consents/effective -> 200 (effective, ${eff.services.length} services)`);
  }

  // 5. Level 1, then level 2, each with If-Match = the ETag of a fresh GET.
  async function changeLevel(toLevel: number, reason: string): Promise<string> {
    const step = `level ${toLevel}`;
    const { etag, view } = await currentEtag(step);
    const { data: change, response } = await expectStatus(
      step,
      201,
      ola.POST("/api/v1/cases/{id}/level-changes", {
        params: { path, header: { "If-Match": etag } },
        body: { to_level: toLevel, reason, decided_on: today },
      }),
    );
    eq(step, "from_level", change.from_level, view.level);
    eq(step, "to_level", change.to_level, toLevel);
    eq(step, "decided_on", change.decided_on, today);
    eq(step, "recorded_by", change.recorded_by, holderParticipant);
    const newEtag = etagOf(step, response);
    truthy(step, `the case's ETag did not change (${etag})`, newEtag !== etag);
    const after = await currentEtag(step);
    eq(step, "case level", after.view.level, toLevel);
    eq(step, "ETag in the response = ETag of the next GET", newEtag, after.etag);
    ok(step, `POST .../level-changes (If-Match ${etag}) -> 201 (${change.from_level} -> ${change.to_level}, ETag ${newEtag})`);
    return etag;
  }
  const staleEtag = await changeLevel(1, "Avklart med foreldrene");
  {
    const step = "stale If-Match";
    const { data, error, response } = await ola.POST("/api/v1/cases/{id}/level-changes", {
      params: { path, header: { "If-Match": staleEtag } },
      body: { to_level: 2, reason: "Med gammel ETag", decided_on: today },
    });
    if (response.status !== 412 || !error) {
      fail(step, `expected 412, got ${response.status}: ${describeBody(error ?? data)}`);
    }
    eq(step, "problem type", error.type, "urn:stafettlogg:problem:precondition-failed");
    eq(step, "Content-Type", response.headers.get("Content-Type"), "application/problem+json");
    ok(step, `POST .../level-changes (If-Match ${staleEtag}) -> 412 ${error.type}`);
  }
  await changeLevel(2, "PPT med i samarbeidet");

  // 6. The PPT adviser joins (the consent covers PPT).
  const piaParticipant = await (async () => {
    const step = "add professional (pia)";
    const body: Schemas["NewParticipant"] = { kind: "professional", user_id: "pia", name: "Pia Rådgiver", service: PPT, title: "PP-rådgiver" };
    const { data: p } = await expectStatus(step, 201, ola.POST("/api/v1/cases/{id}/participants", { params: { path }, body }));
    eq(step, "kind", p.kind, "professional");
    eq(step, "user_id", p.user_id, "pia");
    eq(step, "service", p.service, PPT);
    eq(step, "title", p.title, "PP-rådgiver");
    eq(step, "active", p.active, true);
    ok(step, "POST .../participants -> 201 (professional, ppt-vest)");
    return p.id;
  })();

  // 7. A meeting is logged.
  {
    const step = "meeting entry";
    const occurredAt = new Date(Date.now() - 60_000).toISOString().replace(/\.\d{3}Z$/, "Z");
    const body: Schemas["EntryInput"] = {
      kind: "meeting",
      occurred_at: occurredAt,
      title: "Stafettmøte",
      body: "Foreldre, barnehage og PPT møttes.",
      attendees: [mother, father, piaParticipant],
      decisions: "Språkgruppe to ganger i uka",
    };
    const { data: entry } = await expectStatus(step, 201, ola.POST("/api/v1/cases/{id}/entries", { params: { path }, body }));
    eq(step, "kind", entry.kind, "meeting");
    eq(step, "author.participant_id", entry.author.participant_id, holderParticipant);
    includesAll(step, "attendees", entry.attendees, [mother, father, piaParticipant]);
    eq(step, "decisions", entry.decisions, body.decisions);
    eq(step, "occurred_at", Date.parse(entry.occurred_at), Date.parse(occurredAt));
    ok(step, "POST .../entries -> 201 (meeting, 3 attendees)");
  }

  // 8. A measure with PPT responsible, evaluated in six weeks.
  const evaluateBy = addDays(today, 42);
  const measureId = await (async () => {
    const step = "create measure";
    const body: Schemas["MeasureInput"] = {
      title: "Språkgruppe",
      goal: "Emma bruker flere ord i lek",
      responsible: { kind: "service", service: PPT },
      start_date: today,
      evaluate_by: evaluateBy,
      state: "active",
    };
    const { data: m } = await expectStatus(step, 201, ola.POST("/api/v1/cases/{id}/measures", { params: { path }, body }));
    eq(step, "case_id", m.case_id, caseId);
    eq(step, "state", m.state, "active");
    eq(step, "start_date", m.start_date, today);
    eq(step, "evaluate_by", m.evaluate_by, evaluateBy);
    eq(step, "responsible.kind", m.responsible.kind, "service");
    if (m.responsible.kind === "service") eq(step, "responsible.service", m.responsible.service, PPT);
    ok(step, `POST .../measures -> 201 (active, PPT responsible, evaluate by ${evaluateBy})`);
    return m.id;
  })();

  // 9. The PPT adviser evaluates it: continue, next evaluation in three months.
  {
    const step = "evaluation (pia)";
    const nextBy = addMonths(today, 3);
    const body: Schemas["EvaluationInput"] = {
      evaluated_on: today,
      assessment: "Tydelig fremgang",
      child_view: "Emma synes gruppa er gøy",
      outcome: "continue",
      next_evaluate_by: nextBy,
    };
    const { data: ev } = await expectStatus(
      step,
      201,
      pia.POST("/api/v1/cases/{id}/measures/{mid}/evaluations", { params: { path: { id: caseId, mid: measureId } }, body }),
    );
    eq(step, "measure_id", ev.measure_id, measureId);
    eq(step, "outcome", ev.outcome, "continue");
    eq(step, "evaluated_on", ev.evaluated_on, today);
    eq(step, "next_evaluate_by", ev.next_evaluate_by, nextBy);
    eq(step, "evaluated_by.participant_id", ev.evaluated_by.participant_id, piaParticipant);
    const { data: list } = await expectStatus(
      step,
      200,
      pia.GET("/api/v1/cases/{id}/measures/{mid}/evaluations", { params: { path: { id: caseId, mid: measureId } } }),
    );
    includesAll(step, "evaluations listed", list.items.map((e) => e.id), [ev.id]);
    ok(step, `POST .../evaluations -> 201 (continue, next by ${nextBy})`);
  }

  // 10. The kindergarten proposes handing the relay to the school's contact teacher.
  const handoverId = await (async () => {
    const step = "propose handover";
    const body: Schemas["HandoverInput"] = {
      to: { user_id: "sara", name: "Sara Kontaktlærer", service: SCHOOL },
      reason: "transition",
      note: "Emma begynner i 1. klasse i august",
      answer_by: addDays(today, 14),
    };
    const { data: h } = await expectStatus(step, 201, ola.POST("/api/v1/cases/{id}/handovers", { params: { path }, body }));
    eq(step, "state", h.state, "pending");
    eq(step, "case_id", h.case_id, caseId);
    eq(step, "reason", h.reason, "transition");
    eq(step, "from.user_id", h.from.user_id, "ola");
    eq(step, "from.participant_id", h.from.participant_id, holderParticipant);
    eq(step, "to.user_id", h.to.user_id, "sara");
    eq(step, "to.service", h.to.service, SCHOOL);
    eq(step, "previous_holder_leaves", h.previous_holder_leaves, false);
    eq(step, "overdue", h.overdue, false);
    const { view } = await currentEtag(step);
    eq(step, "holder until accepted", view.holder.user_id, "ola");
    ok(step, "POST .../handovers -> 201 (pending; ola still holds)");
    return h.id;
  })();

  // 11. Sara finds it in her inbox and accepts.
  {
    const step = "handover inbox (sara)";
    const { data: inbox } = await expectStatus(step, 200, sara.GET("/api/v1/handovers", { params: { query: { status: "pending" } } }));
    truthy(step, "the proposal is not in sara's pending inbox", inbox.items.some((h) => h.id === handoverId && h.state === "pending"));
    ok(step, `GET /api/v1/handovers?status=pending -> 200 (${inbox.items.length} pending, ours included)`);
  }
  {
    const step = "accept handover (sara)";
    const { data: h } = await expectStatus(
      step,
      200,
      sara.POST("/api/v1/cases/{id}/handovers/{hid}/accept", { params: { path: { id: caseId, hid: handoverId } }, body: {} }),
    );
    eq(step, "id", h.id, handoverId);
    eq(step, "state", h.state, "accepted");
    truthy(step, "answered_at missing", typeof h.answered_at === "string");
    ok(step, "POST .../handovers/{hid}/accept -> 200 (accepted)");
  }
  {
    const step = "holder is sara";
    const { view } = await currentEtag(step, sara);
    eq(step, "holder.user_id", view.holder.user_id, "sara");
    eq(step, "holder.service", view.holder.service, SCHOOL);
    truthy(step, "holder.participant_id did not change", view.holder.participant_id !== holderParticipant);
    eq(step, "level", view.level, 2);
    eq(step, "status", view.status, "open");
    same(step, "subject.national_id (in full for the new holder)", view.subject.national_id, CHILD_NATIONAL_ID);
    const { data: participants } = await expectStatus(step, 200, sara.GET("/api/v1/cases/{id}/participants", { params: { path } }));
    const olaStill = participants.items.find((p) => p.id === holderParticipant);
    eq(step, "ola stays a participant (previous_holder_leaves false)", olaStill?.active, true);
    truthy(step, "sara is not an active participant", participants.items.some((p) => p.user_id === "sara" && p.active && p.id === view.holder.participant_id));
    ok(step, "GET /api/v1/cases/{id} (sara) -> 200 (holder sara, level 2; ola stays)");
  }

  // 12. The timeline lists what happened, newest first.
  {
    const step = "timeline";
    const { data: tl } = await expectStatus(step, 200, sara.GET("/api/v1/cases/{id}/timeline", { params: { path, query: { limit: 200 } } }));
    const types = tl.items.map((i) => i.type);
    includesAll(step, "types", types, [
      "case.opened",
      "participant.added",
      "consent.recorded",
      "level.changed",
      "entry.added",
      "measure.created",
      "evaluation.added",
      "handover.proposed",
      "handover.accepted",
    ]);
    eq(step, "level.changed count", types.filter((t) => t === "level.changed").length, 2);
    const times = tl.items.map((i) => Date.parse(i.at));
    truthy(step, "a timestamp does not parse", times.every((t) => Number.isFinite(t)));
    truthy(step, "not newest first", times.every((t, i) => i === 0 || t <= (times[i - 1] ?? t)));
    truthy(step, "the last item is not case.opened", tl.items[tl.items.length - 1]?.type === "case.opened");
    truthy(step, "an item refers to another case's opening", tl.items.filter((i) => i.type === "case.opened").every((i) => i.ref.id === caseId));
    ok(step, `GET .../timeline -> 200 (${tl.items.length} items, newest first)`);
  }

  // 13. The mother, signed in with her national login, sees who accessed the case.
  {
    const step = "access log (kari)";
    const { data: log } = await expectStatus(step, 200, kari.GET("/api/v1/cases/{id}/access-log", { params: { path, query: { limit: 200 } } }));
    truthy(step, "no access events", log.items.length > 0);
    const actors = [...new Set(log.items.map((e) => e.actor.user_id))];
    includesAll(step, "actors", actors, ["ola", "pia", "sara"]);
    const actions = [...new Set(log.items.map((e) => e.action))];
    includesAll(step, "actions", actions, ["create", "read"]);
    const ids = log.items.map((e) => e.id);
    truthy(step, "not newest first (id decreasing)", ids.every((id, i) => i === 0 || id < (ids[i - 1] ?? Infinity)));
    ok(step, `GET .../access-log (guardian) -> 200 (${log.items.length} events by ${actors.sort().join(", ")})`);
  }

  console.log(`PASS walkthrough: case ${caseId} in ${Date.now() - started} ms`);
}

main().catch((e: unknown) => {
  if (e instanceof CheckError) {
    console.error(`FAIL ${e.message}`);
  } else {
    console.error(`FAIL unexpected error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
  process.exit(1);
});
