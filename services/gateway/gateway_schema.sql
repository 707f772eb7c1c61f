-- The gateway's tables: accounts and attention time. Applied on every start.

-- API tokens are stored only as sha256 hex digests; the token itself is shown once.
CREATE TABLE IF NOT EXISTS users (
    name       text PRIMARY KEY,
    role       text NOT NULL CHECK (role IN ('viewer', 'annotator', 'admin')),
    token_hash text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Seconds each annotator had a trajectory on screen (heartbeats from the web app).
CREATE TABLE IF NOT EXISTS attention (
    annotator     text NOT NULL,
    trajectory_id text NOT NULL,
    seconds       double precision NOT NULL CHECK (seconds >= 0),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (annotator, trajectory_id)
);

-- The dashboards' attention table (deploy/grafana): each annotator's total attention time.
CREATE OR REPLACE VIEW annotator_attention AS
SELECT annotator, count(*) AS trajectories, sum(seconds) AS seconds,
    max(updated_at) AS last_seen_at
FROM attention GROUP BY annotator;
