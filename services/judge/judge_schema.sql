-- The judge's tables. Applied on every start.

-- Judge-model answers by (prompt digest, judge model): re-judging with an unchanged LLM rule
-- reads these instead of calling the model. An answer once stored never changes.
CREATE TABLE IF NOT EXISTS llm_judgements (
    prompt_digest text NOT NULL,
    judge_model   text NOT NULL,
    answer_json   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (prompt_digest, judge_model)
);
