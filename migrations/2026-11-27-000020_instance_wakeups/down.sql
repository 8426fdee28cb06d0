DROP TRIGGER level_definitions_notify ON level_definitions;
DROP TRIGGER services_notify ON services;
DROP TRIGGER guide_versions_notify ON guide_versions;
DROP FUNCTION stafettlogg_notify_guide();
