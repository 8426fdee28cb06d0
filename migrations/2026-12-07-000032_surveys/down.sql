DROP TABLE survey_tallies, survey_respondents, survey_questions, surveys;
DROP FUNCTION survey_questions_frozen();
ALTER TABLE municipalities DROP COLUMN survey_retention_years;
DELETE FROM notifications WHERE event = 'survey.opened';
ALTER TABLE notifications DROP CONSTRAINT notifications_event_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_event_check
    CHECK (event IN ('handover.proposed', 'handover.answered', 'signature.awaited', 'evaluation.due',
                     'consent.expiring', 'decision.overdue', 'inquiry.received', 'inquiry.answered',
                     'holder.reassigned', 'meeting.invited', 'meeting.changed', 'meeting.cancelled'));
ALTER TABLE notification_settings DROP COLUMN surveys_on;
CREATE OR REPLACE FUNCTION enqueue_reminders(today DATE) RETURNS INTEGER
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    added INTEGER;
BEGIN
    WITH holder AS (
        SELECT c.id AS case_id, c.municipality, p.user_id
          FROM cases c JOIN case_participants p ON p.id = c.holder_participant_id
         WHERE c.status = 'open' AND c.purged_at IS NULL AND p.user_id IS NOT NULL),
    due AS (
        SELECT m.case_id, h.municipality,
               CASE WHEN r.id IS NULL THEN h.user_id ELSE r.user_id END AS user_id,
               CASE WHEN r.id IS NULL THEN NULL ELSE r.national_id_hash END AS pid_hash,
               'evaluation.due' AS event, m.id AS subject_id,
               'evaluation.due:' || m.id || ':' || m.evaluate_by AS dedup_key
          FROM measures m JOIN holder h ON h.case_id = m.case_id
          LEFT JOIN case_participants r ON r.id = m.responsible_participant_id AND r.active
                                        AND (r.user_id IS NOT NULL OR r.national_id_hash IS NOT NULL)
         WHERE m.state IN ('planned', 'active') AND m.evaluate_by BETWEEN today AND today + 7
        UNION ALL
        SELECT k.case_id, h.municipality, h.user_id, NULL, 'consent.expiring', k.id,
               'consent.expiring:' || k.id || ':' || k.valid_until
          FROM consents k JOIN holder h ON h.case_id = k.case_id
         WHERE k.withdrawn_at IS NULL AND k.superseded_by IS NULL AND k.valid_from <= today
           AND k.valid_until BETWEEN today AND today + 30
           AND NOT EXISTS (SELECT 1 FROM consent_givers g WHERE g.consent_id = k.id AND g.signed_at IS NULL)
        UNION ALL
        SELECT c.id, h.municipality, h.user_id, NULL, 'decision.overdue', NULL::uuid,
               'decision.overdue:' || c.id || ':' || c.decision_due
          FROM cases c JOIN holder h ON h.case_id = c.id
         WHERE c.level = 0 AND c.decision_due < today
           AND NOT EXISTS (SELECT 1 FROM level0_decisions d
                            WHERE d.case_id = c.id AND d.period_started_at = c.level0_since))
    INSERT INTO notifications (id, municipality, user_id, event, channel, case_id, subject_id, dedup_key)
    SELECT uuid_v7(), d.municipality, s.user_id, d.event, ch.channel, d.case_id, d.subject_id, d.dedup_key
      FROM due d
      JOIN notification_settings s
        ON s.municipality = d.municipality AND (s.user_id = d.user_id OR s.pid_hash = d.pid_hash)
      CROSS JOIN LATERAL (VALUES ('email', s.email_on), ('sms', s.sms_on)) AS ch(channel, wanted)
     WHERE ch.wanted
       AND EXISTS (SELECT 1 FROM case_grants g
                    WHERE g.case_id = d.case_id AND (g.user_id = s.user_id OR g.pid_hash = s.pid_hash)
                      AND (g.valid_from IS NULL OR g.valid_from <= today)
                      AND (g.valid_until IS NULL OR g.valid_until >= today))
       AND NOT EXISTS (SELECT 1 FROM staff_departures x
                        WHERE x.municipality = s.municipality AND x.user_id = s.user_id
                          AND x.departed_on <= today)
    ON CONFLICT (municipality, user_id, channel, dedup_key) DO NOTHING;
    GET DIAGNOSTICS added = ROW_COUNT;
    RETURN added;
END $$;
