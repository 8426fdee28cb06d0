//! The survey endpoints: thin; the rules are in `rules`, who may do what in `crate::policy::surveys`. No
//! access events: a survey holds no case and no child.

use std::collections::HashMap;

use actix_web::http::header::ETag;
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use diesel::PgConnection;
use uuid::Uuid;

use super::api::{
    Question, ResultsBy, ResultsQuery, RoundResults, Survey, SurveyAnswers, SurveyInput,
    SurveyList, SurveyPatch, SurveyResults,
};
use super::store::{self, Group, Lock, SurveyChanges, SurveyRow};
use super::{questionnaire, rules};
use crate::auth::caller::one_of_mine;
use crate::auth::Caller;
use crate::db::{self, Pool};
use crate::http::error::{AppError, ProblemType};
use crate::http::extract::{etag, IfMatch, ValidJson, ValidQuery};
use crate::http::negotiate;
use crate::national_id::NationalIdKey;
use crate::policy::overviews::Scope;
use crate::policy::surveys as may;

/// The results as CSV, for an `Accept` that prefers it.
const CSV: &str = "text/csv";

fn with_etag(mut res: actix_web::HttpResponseBuilder, view: Survey) -> HttpResponse {
    res.insert_header(ETag(etag(view.version))).json(view)
}

/// The survey as `caller` sees it.
fn view_of(
    conn: &mut PgConnection,
    row: &SurveyRow,
    caller: &Caller,
    key: &NationalIdKey,
) -> Result<Survey, AppError> {
    let questions = store::questions(conn, row.id)?;
    view_with(conn, row, caller, key, questions)
}

/// The survey as `caller` sees it, with the questions the handler has read already.
fn view_with(
    conn: &mut PgConnection,
    row: &SurveyRow,
    caller: &Caller,
    key: &NationalIdKey,
    questions: Vec<Question>,
) -> Result<Survey, AppError> {
    let mine = (row.id, key.survey_respondent(row.id, &caller.user_id));
    let answered = !store::answered_by(conn, &[mine])?.is_empty();
    let answers = store::answer_counts(conn, &[row.id])?
        .first()
        .map_or(0, |(_, n)| *n);
    Ok(row.view(questions, answered, answers, crate::clock::today()))
}

/// The questions have unique keys and the dates lie ahead in order.
fn check_survey(input: &SurveyInput) -> Result<(), AppError> {
    rules::keys_are_unique(&input.questions)?;
    rules::dates_are_ahead_and_in_order(input.opens_on, input.closes_on, crate::clock::today())
}

/// The default questionnaire of the BTI kartlegging, to start a survey from.
///
/// For the administrator (403 otherwise): a title and questions written for this project, in bokmål and
/// nynorsk; add the dates and `POST /surveys` it, changed as the municipality wishes.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The default questionnaire", body = super::api::DefaultQuestionnaire),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/surveys/default-questionnaire")]
pub async fn default_questionnaire(caller: Caller) -> Result<HttpResponse, AppError> {
    may::may_manage(&caller)?;
    Ok(HttpResponse::Ok().json(questionnaire::default_questionnaire()))
}

/// Write a survey of the municipality's employees.
///
/// For the administrator (403 otherwise). It opens on `opens_on` (today or later) and closes after
/// `closes_on`; until it opens it may be changed or deleted. Question keys are unique (422 naming the
/// second).
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    request_body = SurveyInput,
    responses(
        (status = 201, description = "Written", body = Survey,
            headers(("Location" = String, description = "The survey"), ("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[post("/surveys")]
pub async fn create_survey(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    body: ValidJson<SurveyInput>,
) -> Result<HttpResponse, AppError> {
    may::may_manage(&caller)?;
    let input = body.0;
    check_survey(&input)?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        crate::municipality::store::ensure(conn, &caller.tenant)?;
        let row = store::insert(conn, &caller.tenant, &input)?;
        view_with(conn, &row, &caller, &key, input.questions)
    })
    .await?;
    let location = format!("/api/v1/surveys/{}", view.id);
    Ok(with_etag(
        HttpResponse::Created()
            .insert_header(("Location", location))
            .take(),
        view,
    ))
}

/// The municipality's surveys.
///
/// Newest first. Employees (professionals and leaders) see those that have opened, each saying whether
/// they have answered it; the administrator sees the planned ones too. 403 for other roles.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The surveys", body = SurveyList),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/surveys")]
pub async fn list_surveys(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
) -> Result<HttpResponse, AppError> {
    may::may_list(&caller)?;
    let list = db::transaction(&pool, caller.session(), move |conn| {
        let today = crate::clock::today();
        let opened_by = (!may::sees_planned(&caller)).then_some(today);
        let rows = store::list(conn, opened_by)?;
        let ids: Vec<Uuid> = rows.iter().map(|r| r.id).collect();
        let mut questions: HashMap<Uuid, Vec<Question>> = HashMap::new();
        for (id, q) in store::questions_of(conn, &ids)? {
            questions.entry(id).or_default().push(q);
        }
        let mine: Vec<(Uuid, Vec<u8>)> = ids
            .iter()
            .map(|id| (*id, key.survey_respondent(*id, &caller.user_id)))
            .collect();
        let answered = store::answered_by(conn, &mine)?;
        let counts: HashMap<Uuid, i64> = store::answer_counts(conn, &ids)?.into_iter().collect();
        let items = rows
            .iter()
            .map(|r| {
                let qs = questions.remove(&r.id).unwrap_or_default();
                let n = counts.get(&r.id).copied().unwrap_or(0);
                r.view(qs, answered.contains(&r.id), n, today)
            })
            .collect();
        Ok(SurveyList { items })
    })
    .await?;
    Ok(HttpResponse::Ok().json(list))
}

/// One survey with its questions.
///
/// As in the list: a planned survey is the administrator's alone (404 for employees). The `ETag` is what
/// `If-Match` takes.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The survey id")),
    responses(
        (status = 200, description = "The survey", body = Survey, headers(("ETag" = String, description = "Its version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
    )
)]
#[get("/surveys/{id}")]
pub async fn get_survey(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_list(&caller)?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id, Lock::None)?;
        may::may_see(&caller, row.state(crate::clock::today()))?;
        view_of(conn, &row, &caller, &key)
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Change a survey that has not opened.
///
/// For the administrator, `If-Match` required. Questions given replace them all. Once the survey has
/// opened it no longer changes (409): its questions are the layout of its answers. A patch that changes
/// nothing answers the survey as it is, with the same version.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The survey id"),
        ("If-Match" = String, Header, description = "The ETag of your last read")),
    request_body = SurveyPatch,
    responses(
        (status = 200, description = "Changed", body = Survey, headers(("ETag" = String, description = "Its version: a new one when the patch changed anything"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
        (status = 428, response = crate::http::openapi::PreconditionRequired),
    )
)]
#[patch("/surveys/{id}")]
pub async fn patch_survey(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
    body: ValidJson<SurveyPatch>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_manage(&caller)?;
    let patch = body.0;
    if let Some(questions) = &patch.questions {
        rules::keys_are_unique(questions)?;
    }
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id, Lock::Update)?;
        let today = crate::clock::today();
        rules::editable_until_it_opens(row.state(today))?;
        if_match.check(row.version)?;
        let opens_on = patch.opens_on.unwrap_or(row.opens_on);
        rules::dates_are_ahead_and_in_order(
            opens_on,
            patch.closes_on.unwrap_or(row.closes_on),
            today,
        )?;
        let changes = SurveyChanges {
            title: patch.title,
            opens_on: patch.opens_on,
            closes_on: patch.closes_on,
            by_service: patch.by_service,
        };
        let new_questions = match patch.questions {
            Some(questions) if questions != store::questions(conn, id)? => Some(questions),
            _ => None,
        };
        if !changes.alters(&row) && new_questions.is_none() {
            // Nothing to change (`crate::patch`).
            return view_of(conn, &row, &caller, &key);
        }
        if let Some(questions) = &new_questions {
            store::replace_questions(conn, id, &caller.tenant, questions)?;
        }
        let row = store::update(conn, id, &changes)?;
        view_of(conn, &row, &caller, &key)
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Delete a survey that has not opened.
///
/// For the administrator; once the survey has opened it stays (409).
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The survey id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[delete("/surveys/{id}")]
pub async fn delete_survey(
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_manage(&caller)?;
    db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id, Lock::Update)?;
        rules::editable_until_it_opens(row.state(crate::clock::today()))?;
        store::delete(conn, id)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Close an open survey before its closing day.
///
/// For the administrator: when enough have answered, the survey takes no more answers from today and its
/// results are published. Only an open survey closes early (409 otherwise). `If-Match` is checked when
/// sent.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The survey id"),
        ("If-Match" = Option<String>, Header, description = "Checked when sent")),
    responses(
        (status = 200, description = "Closed", body = Survey, headers(("ETag" = String, description = "Its new version"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 412, response = crate::http::openapi::PreconditionFailed),
    )
)]
#[post("/surveys/{id}/close")]
pub async fn close_survey(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    if_match: IfMatch,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_manage(&caller)?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id, Lock::Update)?;
        let today = crate::clock::today();
        rules::closed_early_only_while_open(row.state(today))?;
        if_match.check_if_present(row.version)?;
        let row = store::close_early(conn, id, today)?;
        view_of(conn, &row, &caller, &key)
    })
    .await?;
    Ok(with_etag(HttpResponse::Ok(), view))
}

/// Answer a survey, once.
///
/// For employees (professionals and leaders; 403 otherwise), while the survey is open (409 before and
/// after). Every question is answered as asked (422 naming `answers.<key>`); a second answer is 409. The
/// answer cannot be traced back to you: it is not stored as a row of its own but added to the counts of
/// your service's kind (and of your service, when the survey records it), and that you answered is kept
/// apart from it, until the survey closes. Nothing of the request is kept to replay: a retry after a lost
/// answer is 409, and `you_answered` in `GET /surveys/{id}` says it counted.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The survey id")),
    request_body = SurveyAnswers,
    responses(
        (status = 200, description = "Answered: the survey, `you_answered` true", body = Survey),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 409, response = crate::http::openapi::Conflict),
    )
)]
#[post("/surveys/{id}/responses")]
pub async fn answer_survey(
    caller: Caller,
    pool: web::Data<Pool>,
    key: web::Data<NationalIdKey>,
    path: web::Path<Uuid>,
    body: ValidJson<SurveyAnswers>,
) -> Result<HttpResponse, AppError> {
    let id = path.into_inner();
    may::may_answer(&caller)?;
    let input = body.0;
    // The service whose kind goes with the answer.
    let service = one_of_mine(&caller.services, input.service.as_deref(), "service")?;
    let view = db::transaction(&pool, caller.session(), move |conn| {
        let row = store::find(conn, id, Lock::Share)?;
        let state = row.state(crate::clock::today());
        may::may_see(&caller, state)?;
        rules::answered_only_while_open(state)?;
        let questions = store::questions(conn, id)?;
        let chosen = rules::every_question_answered_as_asked(&questions, &input.answers)?;
        let kind = crate::services::store::find_active_by_code(conn, &caller.tenant, &service)?
            .ok_or_else(|| {
                AppError::invalid("service", "is not an active service of the municipality")
            })?
            .kind;
        let respondent = key.survey_respondent(id, &caller.user_id);
        if !store::mark_answered(conn, id, &caller.tenant, &respondent)? {
            return Err(AppError::conflict("you have answered this survey"));
        }
        let mut groups = vec![Group {
            kind,
            service: None,
        }];
        if row.by_service {
            groups.push(Group {
                kind,
                service: Some(&service),
            });
        }
        for group in &groups {
            store::add_to_group(conn, id, &caller.tenant, &questions, group, &chosen)?;
        }
        view_with(conn, &row, &caller, &key, questions)
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

/// One round's published results, limited to the groups `scope` sees and to `shown` questions.
fn round(
    conn: &mut PgConnection,
    (row, questions): (&SurveyRow, &[Question]),
    by: ResultsBy,
    scope: &Scope,
    shown: &[Question],
    field: &str,
) -> Result<RoundResults, AppError> {
    let per_service = by == ResultsBy::Service;
    if per_service && !row.by_service {
        return Err(AppError::invalid(
            field,
            "this survey records only the kind of service; ask for `by=service_kind`",
        ));
    }
    if let (true, Some(on)) = (per_service, row.reduced_on) {
        return Err(AppError::conflict(format!(
            "{field}: the per-service counts of this survey were erased on {on}; ask for `by=service_kind`"
        )));
    }
    let rows = store::tallies(conn, row.id, questions)?;
    let (groups, total) = if per_service {
        rules::publish_by_service(questions, &rows)
    } else {
        rules::publish_by_kind(questions, &rows)
    };
    let visible = visible_keys(conn, scope, by)?;
    let keep = |mut g: super::api::GroupResult| {
        g.questions.retain(|q| shown.iter().any(|s| s.key == q.key));
        g
    };
    Ok(RoundResults {
        survey: row.id,
        title: row.title.clone(),
        opens_on: row.opens_on,
        closes_on: row.closes_on,
        groups: groups
            .into_iter()
            .filter(|g| visible.as_ref().is_none_or(|v| v.contains(&g.key)))
            .map(keep)
            .collect(),
        total: keep(total),
    })
}

/// The group keys a leader sees (their services, or their kinds); `None`: every group.
fn visible_keys(
    conn: &mut PgConnection,
    scope: &Scope,
    by: ResultsBy,
) -> Result<Option<Vec<String>>, AppError> {
    let Scope::Led(services) = scope else {
        return Ok(None);
    };
    Ok(Some(match by {
        ResultsBy::Service => services.clone(),
        ResultsBy::ServiceKind => crate::services::store::kinds_of(conn, services)?
            .into_iter()
            .map(super::api::kind_key)
            .collect(),
    }))
}

/// The results of a closed survey, by service kind or service, without small groups.
///
/// For the administrator (every group) and leaders (the groups of the services they lead, or of their
/// kinds); 403 for other roles. Published once the survey has closed (409 before). Per group the number of
/// answers and, per question, the mean and the distribution; a group of fewer than 5 answers is `null`
/// throughout, and so is a second group where the total would give the first away. `by=service` only for
/// a survey that records the service (422). `compare` puts another closed round of the same questionnaire
/// beside it (the questions of both, by key). `Accept: text/csv` gives one row per round, group and question.
#[utoipa::path(
    tag = "surveys",
    security(("bearer" = [])),
    params(("id" = Uuid, Path, description = "The survey id"), ResultsQuery),
    responses(
        (status = 200, description = "The results",
            content((SurveyResults = "application/json"), (String = "text/csv"))),
        (status = 403, response = crate::http::openapi::Forbidden),
        (status = 406, response = crate::http::openapi::NotAcceptable),
        (status = 409, response = crate::http::openapi::Conflict),
        (status = 422, response = crate::http::openapi::Validation),
    )
)]
#[get("/surveys/{id}/results")]
pub async fn survey_results(
    req: HttpRequest,
    caller: Caller,
    pool: web::Data<Pool>,
    path: web::Path<Uuid>,
    query: ValidQuery<ResultsQuery>,
) -> Result<HttpResponse, AppError> {
    let as_csv = negotiate::choose(&req, &["application/json", CSV])? == CSV;
    let id = path.into_inner();
    let scope = may::results_scope(&caller)?;
    let by = query.0.by.unwrap_or(ResultsBy::ServiceKind);
    let compare = query.0.compare;
    let results = db::transaction(&pool, caller.session(), move |conn| {
        let today = crate::clock::today();
        let row = store::find(conn, id, Lock::None)?;
        may::may_see(&caller, row.state(today))?;
        rules::results_only_after_closing(row.state(today), "id")?;
        let own = store::questions(conn, id)?;
        let mut questions = own.clone();
        let compared_with = match compare {
            Some(other) => {
                // A survey the caller may not see is named as if it did not exist; any other error stays.
                let not_one = |e: AppError| match e.kind {
                    ProblemType::NotFound => {
                        AppError::invalid("compare", "is not a survey of the municipality")
                    }
                    _ => e,
                };
                let other = store::find(conn, other, Lock::None).map_err(not_one)?;
                may::may_see(&caller, other.state(today)).map_err(not_one)?;
                rules::results_only_after_closing(other.state(today), "compare")?;
                let theirs = store::questions(conn, other.id)?;
                questions = rules::shared_questions(&own, &theirs)?;
                let round = round(conn, (&other, &theirs), by, &scope, &questions, "compare")?;
                Some(round)
            }
            None => None,
        };
        let round = round(conn, (&row, &own), by, &scope, &questions, "by")?;
        Ok(SurveyResults {
            by,
            suppressed_below: rules::SUPPRESSED_BELOW,
            questions,
            round,
            compared_with,
        })
    })
    .await?;
    Ok(if as_csv {
        let rounds: Vec<&RoundResults> = std::iter::once(&results.round)
            .chain(&results.compared_with)
            .collect();
        HttpResponse::Ok()
            .content_type("text/csv; charset=utf-8; header=present")
            .body(rules::csv(&results.questions, &rounds))
    } else {
        HttpResponse::Ok().json(results)
    })
}
