DROP TRIGGER limit_participants ON case_participants;
DROP TRIGGER limit_holder_periods ON holder_periods;
DROP TRIGGER limit_consents ON consents;
DROP TRIGGER limit_measures ON measures;
DROP TRIGGER limit_evaluations ON evaluations;
DROP TRIGGER limit_level_changes ON level_changes;
DROP TRIGGER limit_handovers ON handovers;
DROP TRIGGER limit_plans ON plans;
DROP TRIGGER limit_meetings ON meetings;
DROP TRIGGER limit_level0_decisions ON level0_decisions;
DROP TRIGGER limit_inquiry_answers ON inquiry_answers;
DROP TRIGGER limit_consultation_answers ON consultation_answers;
DROP TRIGGER limit_webhooks ON webhooks;
DROP TRIGGER limit_services ON services;
DROP FUNCTION limit_rows();
DROP INDEX IF EXISTS evaluations_measure, holder_periods_case, plans_case, meetings_case,
    inquiry_answers_inquiry, consultation_answers_consultation, webhooks_owner;
