-- The Postgres archive: events, read models, consumer offsets, dead letters, blobs and
-- processed-event records. Applied on every start, so only CREATE ... IF NOT EXISTS.

-- Every event once. `position` is the archive's global order: appends hold a lock while
-- inserting, so positions also follow commit order and a reader paging by position
-- never skips a row that commits late.
CREATE TABLE IF NOT EXISTS events (
    position      bigserial PRIMARY KEY,
    event_id      text NOT NULL UNIQUE,
    trajectory_id text NOT NULL,
    topic         text NOT NULL,
    kind          text NOT NULL,
    occurred_at   timestamptz NOT NULL,
    -- The encoded apollo.v1.Event exactly as appended.
    payload       bytea NOT NULL,
    archived_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS events_by_trajectory ON events (trajectory_id, position);

-- The trajectory list, derived only from the log events, updated with each append.
CREATE TABLE IF NOT EXISTS trajectories (
    trajectory_id    text PRIMARY KEY,
    task_id          text NOT NULL,
    status           text NOT NULL
        CHECK (status IN ('running', 'finished', 'failed', 'cancelled')),
    -- Number of action_proposed events.
    steps            integer NOT NULL,
    guidance_count   integer NOT NULL,
    started_at       timestamptz,
    ended_at         timestamptz,
    last_activity_at timestamptz NOT NULL,
    final_score      double precision
);
CREATE INDEX IF NOT EXISTS trajectories_by_activity
    ON trajectories (last_activity_at DESC, trajectory_id);
CREATE INDEX IF NOT EXISTS trajectories_by_status_activity
    ON trajectories (status, last_activity_at DESC, trajectory_id);

-- Kafka offsets of the consumers that archive, committed in the same transaction as the
-- events they read, so a restart resumes exactly after the last archived batch.
CREATE TABLE IF NOT EXISTS consumer_offsets (
    consumer_group text NOT NULL,
    topic          text NOT NULL,
    partition      integer NOT NULL CHECK (partition >= 0),
    next_offset    bigint NOT NULL CHECK (next_offset >= 0),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

-- Messages some consumer rejected, once per original message.
CREATE TABLE IF NOT EXISTS dead_letters (
    id               bigserial PRIMARY KEY,
    topic            text NOT NULL,
    partition        integer NOT NULL,
    "offset"         bigint NOT NULL,
    error_class      text NOT NULL,
    consumer_group   text NOT NULL,
    dead_lettered_at timestamptz,
    -- The encoded apollo.v1.DeadLetter.
    record           bytea NOT NULL,
    archived_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (topic, partition, "offset")
);

-- Content-addressed blobs; `digest` is "sha256:<hex>" of `content`.
CREATE TABLE IF NOT EXISTS blobs (
    digest     text PRIMARY KEY,
    size_bytes bigint NOT NULL,
    media_type text NOT NULL,
    content    bytea NOT NULL,
    stored_at  timestamptz NOT NULL DEFAULT now()
);

-- Which events each consumer has handled, so handlers stay idempotent across restarts.
CREATE TABLE IF NOT EXISTS processed_events (
    consumer     text NOT NULL,
    event_id     text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- The verdict read model: each action's verdict under each ruleset version, derived only
-- from archived action_judged events, filled by the append that archives them.
CREATE TABLE IF NOT EXISTS verdicts (
    action_id       text NOT NULL,
    ruleset_version text NOT NULL,
    trajectory_id   text NOT NULL,
    step_index      integer NOT NULL,
    verdict         text NOT NULL CHECK (verdict IN ('keep', 'mask', 'unspecified')),
    -- The rule ids of the verdict's reasons, in the order given.
    rule_ids        text[] NOT NULL,
    -- The events.position of the action_judged event.
    position        bigint NOT NULL,
    PRIMARY KEY (action_id, ruleset_version)
);
CREATE INDEX IF NOT EXISTS verdicts_by_version_trajectory
    ON verdicts (ruleset_version, trajectory_id, step_index);

-- Rulesets that judged the archive, live or re-judging: the canonical document under its
-- content hash (the recorder starts their verdict series at zero from it).
CREATE TABLE IF NOT EXISTS rulesets (
    version     text PRIMARY KEY,
    document    text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Per-trajectory lookups of the verdicts (the dashboards' trajectory table reads them).
CREATE INDEX IF NOT EXISTS verdicts_by_trajectory
    ON verdicts (trajectory_id, ruleset_version);

-- Read-model views, one per dashboard table (deploy/grafana). Derived only from the read
-- models above; CREATE OR REPLACE keeps them current, so only ever append columns.

-- Each trajectory's steps, guidance, guidance per 100 steps and score, with the mask rate
-- of its actions under the ruleset that judged it last (NULLs while none has).
CREATE OR REPLACE VIEW trajectory_interventions AS
SELECT t.trajectory_id, t.task_id, t.status, t.steps, t.guidance_count,
    CASE WHEN t.steps > 0 THEN 100.0 * t.guidance_count / t.steps END::double precision
        AS guidance_per_100_steps,
    t.final_score, judged.ruleset_version, judged.judged_actions, judged.masked_actions,
    judged.mask_rate, t.started_at, t.ended_at, t.last_activity_at
FROM trajectories t
LEFT JOIN LATERAL (
    SELECT v.ruleset_version, count(*) AS judged_actions,
        count(*) FILTER (WHERE v.verdict = 'mask') AS masked_actions,
        avg((v.verdict = 'mask')::int)::double precision AS mask_rate
    FROM verdicts v WHERE v.trajectory_id = t.trajectory_id
    GROUP BY v.ruleset_version ORDER BY max(v.position) DESC LIMIT 1
) AS judged ON true;

-- Each ruleset version's verdicts: how many actions, how many masked.
CREATE OR REPLACE VIEW ruleset_verdicts AS
SELECT ruleset_version, count(DISTINCT trajectory_id) AS trajectories, count(*) AS actions,
    count(*) FILTER (WHERE verdict = 'mask') AS masked,
    avg((verdict = 'mask')::int)::double precision AS mask_rate,
    max(position) AS newest_position
FROM verdicts GROUP BY ruleset_version;

-- Each rule of each ruleset version: the verdicts that name it (once each, however often
-- its reasons do), and the share of all the version's actions it masked.
CREATE OR REPLACE VIEW rule_verdicts AS
SELECT named.ruleset_version, named.rule_id, count(*) AS fired,
    count(*) FILTER (WHERE named.verdict = 'mask') AS masked,
    (count(*) FILTER (WHERE named.verdict = 'mask'))::double precision / min(totals.actions)
        AS mask_rate
FROM (SELECT DISTINCT ruleset_version, action_id, verdict, unnest(rule_ids) AS rule_id
      FROM verdicts) AS named
JOIN ruleset_verdicts AS totals USING (ruleset_version)
GROUP BY named.ruleset_version, named.rule_id;

-- Trajectories by status, with their steps, guidance and mean final score.
CREATE OR REPLACE VIEW trajectory_statuses AS
SELECT status, count(*) AS trajectories, sum(steps) AS steps,
    sum(guidance_count) AS guidance,
    CASE WHEN sum(steps) > 0 THEN 100.0 * sum(guidance_count) / sum(steps) END::double precision
        AS guidance_per_100_steps,
    avg(final_score) AS mean_final_score
FROM trajectories GROUP BY status;
