// The model the scorer's tests (engine/eval/scorer_test.cc) and the row
// outcome's tests use.
// Two groups: usage (0.6) with stickiness (linear 0.1..0.5, enterprise
// 0.2..0.6 and weight 3) and adoption (identity, weight 1); sentiment (0.4)
// with satisfaction (steps on csat).
//
// Tiers green (80) / yellow (50) / red with hysteresis 3; playbooks in
// priority order rescue (with a success condition), renewal_risk and
// falling.

#ifndef HEALTHSCORE_ENGINE_EVAL_TESTING_SCORER_MODEL_H_
#define HEALTHSCORE_ENGINE_EVAL_TESTING_SCORER_MODEL_H_

namespace healthscore::engine::eval::testing {

inline constexpr char kScorerModel[] = R"yaml(name: scorer_test
version: "2.1"
segment_by: segment
min_coverage: 0.5
hysteresis: 3
inputs:
  - {id: dau_mau, type: number, range: [0, 1]}
  - {id: adoption, type: number}
  - {id: csat, type: number}
  - {id: segment, type: string}
  - {id: renewal_date, type: date}
derived:
  - id: days_to_renewal
    expr: "days_between(as_of, renewal_date)"
  - id: renewing_soon
    expr: "days_to_renewal < 60"
groups:
  - id: usage
    weight: 0.6
    signals:
      - id: stickiness
        source: dau_mau
        weight: 1
        normalize: {linear: {bad: 0.1, good: 0.5}}
        overrides:
          enterprise: {weight: 3, normalize: {linear: {bad: 0.2, good: 0.6}}}
      - id: adoption_rate
        source: adoption
        weight: 1
        normalize: identity
  - id: sentiment
    weight: 0.4
    signals:
      - id: satisfaction
        source: csat
        weight: 1
        normalize: {steps: [{below: 3, score: 0}, {below: 4, score: 50}, {score: 100}]}
tiers:
  - {id: green, min: 80}
  - {id: yellow, min: 50}
  - {id: red, min: 0}
playbooks:
  - id: renewal_risk
    name: Renewal risk
    owner: account manager
    priority: 2
    when: 'renewing_soon && tier != "green"'
  - id: rescue
    name: Rescue
    owner: csm
    priority: 1
    when: 'tier == "red"'
    success: 'score >= 50'
  - id: falling
    name: Falling
    owner: csm
    priority: 3
    when: 'score_delta < -10'
)yaml";

}  // namespace healthscore::engine::eval::testing

#endif  // HEALTHSCORE_ENGINE_EVAL_TESTING_SCORER_MODEL_H_
