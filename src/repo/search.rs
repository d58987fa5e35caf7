//! The text index of the staff list's `q`: every ticket's number, description and address as
//! tokens of two adjacent characters (`migration::derived::bigrams`), in `ticket_search` — an FTS5
//! table on SQLite, a GIN-indexed array on PostgreSQL. Written with the ticket (creation) and
//! rewritten with its text (anonymisation), in the same transaction. A search takes the tickets
//! holding every pair of the query from the index; the list then keeps those whose text really
//! contains the query (the substring test it always made), so the index decides speed, not results.
use migration::derived::{bigrams, query_tokens, ticket_text};
use sea_orm::sea_query::{Expr, SimpleExpr};
use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// Indexes a new ticket's text.
pub async fn index<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    no: &str,
    description: &str,
    address: Option<&str>,
) -> Result<(), DbErr> {
    let tokens = bigrams(&ticket_text(no, description, address));
    migration::insert_search_rows(db, &[(ticket_id, tokens)]).await
}

/// Replaces a ticket's indexed text (its description or address changed): the old text is found
/// no more.
pub async fn reindex<C: ConnectionTrait>(
    db: &C,
    ticket_id: i64,
    no: &str,
    description: &str,
    address: Option<&str>,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Sqlite => "DELETE FROM ticket_search WHERE rowid = $1",
        _ => "DELETE FROM ticket_search WHERE ticket_id = $1",
    };
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [ticket_id.into()])).await?;
    index(db, ticket_id, no, description, address).await
}

/// The tickets whose indexed text holds every character pair of `text`; `None` for a text of one
/// character (no pair: the caller's substring test scans).
pub fn matching(backend: DbBackend, text: &str) -> Option<SimpleExpr> {
    let tokens = query_tokens(text)?;
    // Tokens are `g` and hex digits only: safe as literals (a bound value's placeholder differs
    // between the two databases inside a custom expression).
    if !tokens.iter().all(|t| t.bytes().all(|b| b == b'g' || b.is_ascii_hexdigit())) {
        return None;
    }
    let sql = match backend {
        DbBackend::Sqlite => format!(
            "\"tickets\".\"id\" IN (SELECT rowid FROM ticket_search WHERE ticket_search MATCH '{}')",
            tokens.join(" ")
        ),
        _ => format!(
            "\"tickets\".\"id\" IN (SELECT ticket_id FROM ticket_search WHERE grams @> ARRAY['{}']::text[])",
            tokens.join("','")
        ),
    };
    Some(Expr::cust(sql))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_chinese_characters_make_one_token() {
        assert_eq!(query_tokens("漏水").map(|t| t.len()), Some(1));
        assert_eq!(query_tokens("水"), None);
        let text = bigrams(&ticket_text("20261207-0001", "厨房漏水，请派人", None));
        assert!(query_tokens("漏水").unwrap().iter().all(|t| text.contains(t)));
        assert!(query_tokens("0001").unwrap().iter().all(|t| text.contains(t)));
        assert!(!query_tokens("停电").unwrap().iter().all(|t| text.contains(t)));
    }

    #[test]
    fn case_is_folded_on_both_sides() {
        let text = bigrams(&ticket_text("B1", "WiFi 没信号", None));
        assert!(query_tokens("wifi").unwrap().iter().all(|t| text.contains(t)));
        assert!(matching(DbBackend::Postgres, "WIFI").is_some());
    }
}
