-- The previous definition is in 2026-11-24-000003_handovers/up.sql; the check itself is unchanged.
SELECT 1;
