-- Several instances of the service share one database and wake each other through it.
-- A published guide, a changed service or a renamed level drops the cached public guide on every instance
-- (`stafettlogg_guide`, from these triggers: such changes are rare). Committed change events wake the long
-- polls on every instance (`stafettlogg_changes`), notified by the writing instance after commit rather
-- than by a trigger (crate::listen says why). The payload is the municipality number only: no case id or
-- text travels on a channel any session may listen to. A lost notification costs latency, never data:
-- the waiters still poll (crate::changes), and the guide cache still expires (crate::guide::cache).

CREATE FUNCTION stafettlogg_notify_guide() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('stafettlogg_guide', OLD.municipality);
    ELSE
        PERFORM pg_notify('stafettlogg_guide', NEW.municipality);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER guide_versions_notify AFTER INSERT OR UPDATE OR DELETE ON guide_versions
    FOR EACH ROW EXECUTE FUNCTION stafettlogg_notify_guide();
CREATE TRIGGER services_notify AFTER INSERT OR UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION stafettlogg_notify_guide();
CREATE TRIGGER level_definitions_notify AFTER INSERT OR UPDATE OR DELETE ON level_definitions
    FOR EACH ROW EXECUTE FUNCTION stafettlogg_notify_guide();
