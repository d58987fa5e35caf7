//! Which unit a ticket should go to first (小事村办、难事乡镇担、大事县管): the category's default
//! level picks the level of the administrative tree, the ticket's village picks the region at that
//! level, and that region's lead unit (the village committee, the township's office, the county
//! centre) handles it — or, for a county-level category that names its department, that department.
//! Pure: the caller loads the lineage and the units.
use super::values::{HandlingLevel, RegionLevel};
use serde::Serialize;

/// A unit the dispatcher may be offered.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UnitChoice {
    pub id: i64,
    pub name: String,
    pub level: HandlingLevel,
}

/// One region of the ticket's lineage (root first) and its active lead unit, if it has one.
#[derive(Clone, Debug)]
pub struct Place<'a> {
    pub level: RegionLevel,
    pub lead: Option<&'a UnitChoice>,
}

/// The region level that answers for a handling level.
pub fn region_level(level: HandlingLevel) -> RegionLevel {
    match level {
        HandlingLevel::Village => RegionLevel::Village,
        HandlingLevel::Township => RegionLevel::Township,
        HandlingLevel::County => RegionLevel::County,
    }
}

/// The unit to suggest for a ticket whose category has default `level`, placed in `lineage` (root
/// first, down to the ticket's own region, which may be a grid). `named` is the unit the category
/// (or its nearest ancestor) names for county-level handling. A region at the wanted level without
/// a lead unit hands the order up to the nearest region above that has one (never down: a village
/// cannot take a county matter).
pub fn suggest<'a>(
    level: HandlingLevel,
    lineage: &[Place<'a>],
    named: Option<&'a UnitChoice>,
) -> Option<&'a UnitChoice> {
    if level == HandlingLevel::County
        && let Some(unit) = named
    {
        return Some(unit);
    }
    let wanted = region_level(level);
    let upto = match lineage.iter().position(|p| p.level == wanted) {
        Some(i) => i + 1,
        // The ticket sits above the wanted level (filed for a whole township, say): its own region.
        None => lineage.len(),
    };
    lineage[..upto].iter().rev().find_map(|p| p.lead)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: i64, name: &str, level: HandlingLevel) -> UnitChoice {
        UnitChoice { id, name: name.into(), level }
    }

    #[test]
    fn each_level_goes_to_the_lead_unit_of_the_tickets_region_at_that_level() {
        let county = unit(1, "县民生服务中心", HandlingLevel::County);
        let town = unit(2, "东坝镇人民政府", HandlingLevel::Township);
        let village = unit(3, "李家庄村村民委员会", HandlingLevel::Village);
        let water = unit(4, "县水利局", HandlingLevel::County);
        // A ticket filed in a micro-grid of the village.
        let lineage = [
            Place { level: RegionLevel::County, lead: Some(&county) },
            Place { level: RegionLevel::Township, lead: Some(&town) },
            Place { level: RegionLevel::Village, lead: Some(&village) },
            Place { level: RegionLevel::Grid, lead: None },
        ];
        assert_eq!(suggest(HandlingLevel::Village, &lineage, None), Some(&village));
        assert_eq!(suggest(HandlingLevel::Township, &lineage, None), Some(&town));
        assert_eq!(suggest(HandlingLevel::County, &lineage, None), Some(&county));
        assert_eq!(suggest(HandlingLevel::County, &lineage, Some(&water)), Some(&water), "the named department");
        // A named unit is for county-level handling only: 小事村办 stays in the village.
        assert_eq!(suggest(HandlingLevel::Village, &lineage, Some(&water)), Some(&village));
    }

    #[test]
    fn a_region_without_a_lead_unit_hands_up_never_down() {
        let county = unit(1, "县民生服务中心", HandlingLevel::County);
        let village = unit(3, "李家庄村村民委员会", HandlingLevel::Village);
        let no_office = [
            Place { level: RegionLevel::County, lead: Some(&county) },
            Place { level: RegionLevel::Township, lead: None },
            Place { level: RegionLevel::Village, lead: Some(&village) },
        ];
        assert_eq!(suggest(HandlingLevel::Township, &no_office, None), Some(&county));
        let township_ticket = [
            Place { level: RegionLevel::County, lead: Some(&county) },
            Place { level: RegionLevel::Township, lead: None },
        ];
        assert_eq!(suggest(HandlingLevel::Village, &township_ticket, None), Some(&county));
        let nothing = [Place { level: RegionLevel::County, lead: None }];
        assert_eq!(suggest(HandlingLevel::County, &nothing, None), None);
        assert_eq!(suggest(HandlingLevel::Village, &[], None), None);
    }
}
