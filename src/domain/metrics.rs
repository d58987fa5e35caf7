//! The five rates and the composite score, one definition used everywhere (DESIGN.md "Metrics").
//! A rate with no data is `None` (shown as null), never 0 or 1.
use serde::Serialize;

/// Raw counts over the tickets of a unit or region in a period.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Tickets received (filed) in the period.
    pub received: i64,
    /// Of those, tickets dispatched at least once.
    pub dispatched: i64,
    /// Assignments whose response deadline has come, or that were accepted.
    pub response_due: i64,
    /// Assignments accepted by their response deadline.
    pub responded_in_time: i64,
    /// Tickets now resolved, visited or closed (办结).
    pub resolved_or_closed: i64,
    /// Resolutions (resolve and council decisions) of these tickets.
    pub resolutions: i64,
    /// Reopenings (重办) of these tickets.
    pub reopenings: i64,
    /// Tickets with a reached, counted return visit (the latest one is used).
    pub visited: i64,
    /// Of the visited, those the requester says are solved (`solved = yes`).
    pub solved: i64,
    pub satisfied: i64,
    pub basically_satisfied: i64,
    pub dissatisfied: i64,
    /// Open tickets whose current deadline has passed.
    pub overdue: i64,
    /// The four satisfaction scores of the counted visits (态度、能力、便利、效率): the sum of the
    /// scores given and how many visits gave one, per dimension.
    pub scores: ScoreSums,
}

/// Sums and counts of the four scores (1–5) given at return visits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ScoreSums {
    pub attitude_sum: i64,
    pub attitude_count: i64,
    pub capability_sum: i64,
    pub capability_count: i64,
    pub convenience_sum: i64,
    pub convenience_count: i64,
    pub efficiency_sum: i64,
    pub efficiency_count: i64,
}

/// One dimension's mean score and how many visits gave it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Dimension {
    pub mean: Option<f64>,
    pub count: i64,
}

/// The four dimensions of satisfaction, each as a mean over the visits that scored it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Dimensions {
    pub attitude: Dimension,
    pub capability: Dimension,
    pub convenience: Dimension,
    pub efficiency: Dimension,
}

impl ScoreSums {
    pub fn dimensions(&self) -> Dimensions {
        let d = |sum: i64, count: i64| Dimension { mean: ratio(sum as f64, count), count };
        Dimensions {
            attitude: d(self.attitude_sum, self.attitude_count),
            capability: d(self.capability_sum, self.capability_count),
            convenience: d(self.convenience_sum, self.convenience_count),
            efficiency: d(self.efficiency_sum, self.efficiency_count),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Weights {
    /// Weight of "basically satisfied" in the satisfaction rate (default 0.8).
    pub basic: f64,
    pub response: f64,
    pub resolution: f64,
    pub satisfaction: f64,
}

impl Default for Weights {
    fn default() -> Self {
        Self { basic: 0.8, response: 10.0, resolution: 45.0, satisfaction: 45.0 }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Rates {
    pub response_rate: Option<f64>,
    pub resolution_rate: Option<f64>,
    pub satisfaction_rate: Option<f64>,
    pub closure_rate: Option<f64>,
    pub reopen_rate: Option<f64>,
    pub composite_score: Option<f64>,
}

fn ratio(num: f64, den: i64) -> Option<f64> {
    (den > 0).then(|| num / den as f64)
}

impl Counts {
    pub fn rates(&self, w: &Weights) -> Rates {
        let response_rate = ratio(self.responded_in_time as f64, self.response_due);
        let resolution_rate = ratio(self.solved as f64, self.visited);
        let satisfaction_rate = ratio(self.satisfied as f64 + self.basically_satisfied as f64 * w.basic, self.visited);
        Rates {
            response_rate,
            resolution_rate,
            satisfaction_rate,
            closure_rate: ratio(self.resolved_or_closed as f64, self.received),
            reopen_rate: ratio(self.reopenings as f64, self.resolutions),
            composite_score: composite(w, response_rate, resolution_rate, satisfaction_rate),
        }
    }
}

/// 10·响应率 + 45·解决率 + 45·满意率 on a 0–100 scale. When a component has no data its weight is
/// shared out over the others (a unit with no visits yet is judged on response alone); with no
/// component at all the score is `None`.
pub fn composite(
    w: &Weights,
    response: Option<f64>,
    resolution: Option<f64>,
    satisfaction: Option<f64>,
) -> Option<f64> {
    let parts = [(w.response, response), (w.resolution, resolution), (w.satisfaction, satisfaction)];
    let (sum, weight) = parts
        .iter()
        .filter_map(|(wt, r)| r.map(|r| (wt * r, *wt)))
        .fold((0.0, 0.0), |(s, ws), (x, wt)| (s + x, ws + wt));
    let total: f64 = parts.iter().map(|(wt, _)| wt).sum();
    // With every component present the weights already add up to the scale: no rescaling (and no
    // floating-point residue like 55.00000000000001).
    (weight > 0.0).then(|| if (weight - total).abs() < 1e-12 { sum } else { sum / weight * total })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_match_a_hand_computed_fixture() {
        // 10 received; 8 assignments due, 6 in time; 7 resolutions, 1 reopened; 5 visited:
        // 4 solved, 3 satisfied + 1 basically + 1 dissatisfied.
        let c = Counts {
            received: 10,
            dispatched: 8,
            response_due: 8,
            responded_in_time: 6,
            resolved_or_closed: 6,
            resolutions: 7,
            reopenings: 1,
            visited: 5,
            solved: 4,
            satisfied: 3,
            basically_satisfied: 1,
            dissatisfied: 1,
            overdue: 0,
            scores: ScoreSums { attitude_sum: 9, attitude_count: 2, ..Default::default() },
        };
        let d = c.scores.dimensions();
        assert_eq!((d.attitude.mean, d.attitude.count), (Some(4.5), 2));
        assert_eq!((d.capability.mean, d.capability.count), (None, 0), "no score given: no mean");
        let r = c.rates(&Weights::default());
        assert_eq!(r.response_rate, Some(0.75));
        assert_eq!(r.resolution_rate, Some(0.8));
        assert!((r.satisfaction_rate.unwrap() - 0.76).abs() < 1e-12); // (3 + 0.8) / 5
        assert_eq!(r.closure_rate, Some(0.6));
        assert!((r.reopen_rate.unwrap() - 1.0 / 7.0).abs() < 1e-12);
        // 10·0.75 + 45·0.8 + 45·0.76 = 7.5 + 36 + 34.2 = 77.7
        assert!((r.composite_score.unwrap() - 77.7).abs() < 1e-9);
    }

    #[test]
    fn an_empty_period_has_no_rates_and_no_division_by_zero() {
        let r = Counts::default().rates(&Weights::default());
        assert_eq!(
            r,
            Rates {
                response_rate: None,
                resolution_rate: None,
                satisfaction_rate: None,
                closure_rate: None,
                reopen_rate: None,
                composite_score: None
            }
        );
    }

    #[test]
    fn composite_reweights_over_components_with_data() {
        let w = Weights::default();
        assert_eq!(composite(&w, Some(0.5), None, None), Some(50.0));
        assert_eq!(composite(&w, Some(1.0), Some(1.0), Some(1.0)), Some(100.0));
    }
}
