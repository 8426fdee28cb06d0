-- Idempotency keys: a POST retried with the same `Idempotency-Key` replays the first answer instead of
-- writing again. Keys belong to one caller (tenant + token `sub`), live at least 24 hours, and are shared
-- by every instance of the service through this table.

CREATE TABLE idempotency_keys (
    tenant           TEXT NOT NULL CHECK (tenant ~ '^[0-9]{4}$'),
    subject          TEXT NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    -- 1-255 visible ASCII characters, as the API accepts them.
    key              TEXT NOT NULL CHECK (key ~ '^[!-~]{1,255}$'),
    -- SHA-256 over method, path with query, and body: what "the same request" means.
    fingerprint      BYTEA NOT NULL CHECK (length(fingerprint) = 32),
    state            TEXT NOT NULL CHECK (state IN ('in_flight', 'completed')),
    -- The execution holding the key: only it may complete or release the row, so a slow first execution
    -- cannot overwrite the answer of one that took the key over.
    claim            UUID NOT NULL,
    -- First use of the key (by this claim): the 24 hours count from here.
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Refreshed while the execution runs; an in-flight row not refreshed for 60 s is abandoned.
    locked_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    completed_at     TIMESTAMPTZ,
    response_status  SMALLINT,
    -- [[name, value], ...]: only the headers a replay needs (Content-Type, Location, ETag, Link).
    response_headers JSONB,
    response_body    BYTEA,
    PRIMARY KEY (tenant, subject, key),
    -- An answer exists exactly when the key is completed, and only 2xx and 4xx answers are kept.
    CONSTRAINT idempotency_keys_answer CHECK (
        (state = 'in_flight' AND completed_at IS NULL AND response_status IS NULL
            AND response_headers IS NULL AND response_body IS NULL)
        OR (state = 'completed' AND completed_at IS NOT NULL AND response_headers IS NOT NULL
            AND response_body IS NOT NULL
            AND (response_status BETWEEN 200 AND 299 OR response_status BETWEEN 400 AND 499))
    ),
    CONSTRAINT idempotency_keys_headers_array CHECK (jsonb_typeof(response_headers) = 'array')
);

-- Cleanup of expired keys walks this index.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);
