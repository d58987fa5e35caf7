//! The holiday calendar as data: published years with their statutory days off and make-up
//! workdays. Deadlines on a working-day clock are computed from what is stored here.
use crate::domain::sla::Calendar;
use chrono::{DateTime, NaiveDate, Utc};
use entity::{calendar_days, calendar_years};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};

pub use entity::calendar_days::Model as CalendarDay;
pub use entity::calendar_years::Model as CalendarYear;

/// Every stored year as a `Calendar`. A handful of rows per year: cheap enough to read whenever a
/// deadline is computed, so that a year an admin adds counts at once on every instance.
pub async fn load<C: ConnectionTrait>(db: &C) -> Result<Calendar, DbErr> {
    let years = calendar_years::Entity::find().all(db).await?;
    let days = calendar_days::Entity::find().all(db).await?;
    let mut cal = Calendar::default();
    for y in years {
        let of = |kind: &str| -> Vec<NaiveDate> {
            days.iter()
                .filter(|d| d.year == y.year && d.kind == kind)
                .filter_map(|d| NaiveDate::parse_from_str(&d.day, "%Y-%m-%d").ok())
                .collect()
        };
        cal.add_year(y.year, of("holiday"), of("workday"));
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
    Ok(Some((y, days)))
}

/// Replaces a year: its row and all its days. `days` are (date, kind, name).
pub async fn put_year<C: ConnectionTrait>(
    db: &C,
    year: i32,
    source: Option<String>,
    days: &[(NaiveDate, &str, String)],
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
        kind: Set(kind.to_string()),
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
