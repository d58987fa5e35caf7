//! The holiday calendar as data: published years with their statutory days off and make-up
//! workdays. Deadlines on a working-day clock are computed from what is stored here.
use super::stored;
use crate::domain::sla::{Calendar, DayKind};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{calendar_days, calendar_years};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::calendar_years::Model as CalendarYear;

/// One exceptional day of a stored year, typed (read loudly: an unknown kind or a date that does
/// not parse is an error, not a day silently left out of the deadlines).
#[derive(Clone, Debug, PartialEq)]
pub struct CalendarDay {
    pub id: i64,
    pub year: i32,
    pub day: NaiveDate,
    pub kind: DayKind,
    pub name: String,
}

impl TryFrom<calendar_days::Model> for CalendarDay {
    type Error = DbErr;

    fn try_from(m: calendar_days::Model) -> Result<CalendarDay, DbErr> {
        Ok(CalendarDay {
            day: stored("calendar_days", "day", m.id, &m.day, |s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())?,
            kind: stored("calendar_days", "kind", m.id, &m.kind, DayKind::parse)?,
            id: m.id,
            year: m.year,
            name: m.name,
        })
    }
}

fn typed(rows: Vec<calendar_days::Model>) -> Result<Vec<CalendarDay>, DbErr> {
    rows.into_iter().map(CalendarDay::try_from).collect()
}

/// A day to store: (date, kind, name).
pub type NewDay = (NaiveDate, DayKind, String);

/// Every stored year as a `Calendar`. A handful of rows per year: cheap enough to read whenever a
/// deadline is computed, so that a year an admin adds counts at once on every instance.
pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Calendar, DbErr> {
    let years = calendar_years::Entity::find().all(db).await?;
    let days = typed(calendar_days::Entity::find().all(db).await?)?;
    let mut cal = Calendar::default();
    for y in years {
        let of = |kind: DayKind| -> Vec<NaiveDate> {
            days.iter().filter(|d| d.year == y.year && d.kind == kind).map(|d| d.day).collect()
        };
        cal.add_year(y.year, of(DayKind::Holiday), of(DayKind::Workday));
    }
    Ok(cal)
}

pub async fn years<C: ConnectionTrait>(db: &C) -> Result<Vec<CalendarYear>, DbErr> {
    calendar_years::Entity::find().order_by_asc(calendar_years::Column::Year).all(db).await
}

pub async fn year<C: ConnectionTrait>(db: &C, year: i32) -> Result<Option<(CalendarYear, Vec<CalendarDay>)>, DbErr> {
    let Some(y) = calendar_years::Entity::find_by_id(year).one(db).await? else {
        return Ok(None);
    };
    let days = calendar_days::Entity::find()
        .filter(calendar_days::Column::Year.eq(year))
        .order_by_asc(calendar_days::Column::Day)
        .all(db)
        .await?;
    Ok(Some((y, typed(days)?)))
}

/// Replaces a year: its row and all its days.
pub async fn put_year<C: ConnectionTrait>(
    db: &C,
    year: i32,
    source: Option<String>,
    days: &[NewDay],
    by: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    delete_year(db, year).await?;
    calendar_years::ActiveModel {
        year: Set(year),
        source: Set(source),
        updated_by: Set(Some(by)),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    if days.is_empty() {
        return Ok(());
    }
    let rows = days.iter().map(|(d, kind, name)| calendar_days::ActiveModel {
        year: Set(year),
        day: Set(d.format("%Y-%m-%d").to_string()),
        kind: Set(kind.as_str().to_string()),
        name: Set(name.clone()),
        ..Default::default()
    });
    calendar_days::Entity::insert_many(rows).exec(db).await?;
    Ok(())
}

/// Removes a year; returns whether it existed.
pub async fn delete_year<C: ConnectionTrait>(db: &C, year: i32) -> Result<bool, DbErr> {
    calendar_days::Entity::delete_many().filter(calendar_days::Column::Year.eq(year)).exec(db).await?;
    Ok(calendar_years::Entity::delete_many()
        .filter(calendar_years::Column::Year.eq(year))
        .exec(db)
        .await?
        .rows_affected
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day() -> calendar_days::Model {
        calendar_days::Model {
            id: 7,
            year: 2026,
            day: "2026-10-01".into(),
            kind: "holiday".into(),
            name: "国庆节".into(),
        }
    }

    #[test]
    fn a_day_reads_back_typed_and_an_unknown_kind_or_date_is_refused() {
        let d = CalendarDay::try_from(day()).unwrap();
        assert_eq!((d.day, d.kind), (NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), DayKind::Holiday));
        let kind = CalendarDay::try_from(calendar_days::Model { kind: "day_off".into(), ..day() }).unwrap_err();
        assert!(kind.to_string().contains("calendar_days.kind of row 7"), "{kind}");
        let date = CalendarDay::try_from(calendar_days::Model { day: "2026-13-01".into(), ..day() }).unwrap_err();
        assert!(date.to_string().contains("calendar_days.day of row 7"), "{date}");
    }
}
