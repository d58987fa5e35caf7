//! State derived from other rows and kept on the ticket (or beside it) so that the staff list can
//! answer from an index: the current step's deadlines (`tickets.overdue_from`, `tickets.late_from`)
//! and the text index of a ticket's number, description and address (`ticket_search`). The SQL and
//! the tokens live here because the migration that adds them fills them for existing tickets with
//! the same code that the application keeps them with.

/// The earliest instant at which the ticket counts as overdue: the smallest deadline of an open
/// step (response not accepted, result not reported) of its active lead assignment. An assisting
/// part (联合办理) never makes the ticket overdue. `NULL`: nothing can make it overdue.
pub const OVERDUE_FROM_SQL: &str = "(SELECT MIN(z.d) FROM (\
    SELECT a.respond_by AS d FROM assignments a WHERE a.ticket_id = tickets.id AND a.status = 'active' \
        AND a.role = 'lead' AND a.accepted_at IS NULL \
    UNION ALL SELECT a.resolve_by FROM assignments a WHERE a.ticket_id = tickets.id AND a.status = 'active' \
        AND a.role = 'lead' AND a.resolved_at IS NULL) z)";

/// The earliest instant at which the ticket's current step is late: registration (submitted),
/// dispatch (registered, reopened), the lead assignment's open steps (response, first progress,
/// result) while a unit holds the order, the return visit (resolved). `NULL` in other statuses.
pub const LATE_FROM_SQL: &str = "(CASE \
    WHEN tickets.status = 'submitted' THEN tickets.register_by \
    WHEN tickets.status IN ('registered', 'reopened') THEN tickets.dispatch_by \
    WHEN tickets.status = 'resolved' THEN tickets.visit_by \
    WHEN tickets.status IN ('dispatched', 'accepted', 'in_progress') THEN (SELECT MIN(z.d) FROM (\
        SELECT a.respond_by AS d FROM assignments a WHERE a.ticket_id = tickets.id AND a.status = 'active' \
            AND a.role = 'lead' AND a.accepted_at IS NULL \
        UNION ALL SELECT a.progress_by FROM assignments a WHERE a.ticket_id = tickets.id AND a.status = 'active' \
            AND a.role = 'lead' AND a.first_progress_at IS NULL AND a.resolved_at IS NULL \
        UNION ALL SELECT a.resolve_by FROM assignments a WHERE a.ticket_id = tickets.id AND a.status = 'active' \
            AND a.role = 'lead' AND a.resolved_at IS NULL) z) \
    END)";

/// `UPDATE` that recomputes both deadline columns of the tickets the `WHERE` clause that follows
/// selects, and writes only the tickets whose values change (a write that changes nothing still
/// costs a row version and its index entries on PostgreSQL).
pub fn refresh_deadlines_sql(where_clause: &str) -> String {
    format!(
        "UPDATE tickets SET overdue_from = d.o, late_from = d.l \
         FROM (SELECT tickets.id AS id, {OVERDUE_FROM_SQL} AS o, {LATE_FROM_SQL} AS l FROM tickets WHERE {where_clause}) d \
         WHERE tickets.id = d.id AND (tickets.overdue_from IS DISTINCT FROM d.o OR tickets.late_from IS DISTINCT FROM d.l)"
    )
}

/// `UPDATE` that copies each ticket's two deadline columns onto its assignments
/// (`assignments.ticket_overdue_from`, `ticket_late_from`), for the assignments the `WHERE` clause
/// that follows selects: a unit's overdue and late orders are then one range of an index that
/// starts with the unit (`ix_assignments_unit_overdue`, `ix_assignments_unit_late`), whatever share
/// of all overdue orders they are. The schema of migration 000034; the application keeps the copies
/// with `copy_ticket_sql`.
pub fn copy_deadlines_sql(where_clause: &str) -> String {
    format!(
        "UPDATE assignments SET \
         ticket_overdue_from = (SELECT t.overdue_from FROM tickets t WHERE t.id = assignments.ticket_id), \
         ticket_late_from = (SELECT t.late_from FROM tickets t WHERE t.id = assignments.ticket_id) WHERE {where_clause}"
    )
}

/// `UPDATE` that copies each ticket's status and derived deadlines onto its assignments
/// (`ticket_status`, `ticket_overdue_from`, `ticket_late_from`, migrations 000034 and 000035) for
/// the assignments the `WHERE` clause that follows selects, writing only the copies that differ.
/// A unit's orders of one status, overdue or late are then one range of an index that starts with
/// the unit. Run after `refresh_deadlines_sql` for the same tickets.
pub fn copy_ticket_sql(where_clause: &str) -> String {
    format!(
        "UPDATE assignments SET ticket_status = t.status, ticket_overdue_from = t.overdue_from, \
         ticket_late_from = t.late_from FROM tickets t WHERE t.id = assignments.ticket_id AND ({where_clause}) \
         AND (assignments.ticket_status IS DISTINCT FROM t.status \
         OR assignments.ticket_overdue_from IS DISTINCT FROM t.overdue_from \
         OR assignments.ticket_late_from IS DISTINCT FROM t.late_from)"
    )
}

/// A token of the text index: two adjacent characters, their UTF-8 bytes in hex behind a `g` (a
/// plain ASCII word every tokenizer keeps whole, whatever the characters were).
fn token(pair: &str) -> String {
    let mut s = String::with_capacity(1 + pair.len() * 2);
    s.push('g');
    for b in pair.bytes() {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

/// Distinct tokens of every two adjacent characters of `text`, lowercased (Chinese has no spaces
/// between words: a two-character word like 漏水 is one token).
pub fn bigrams(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.to_lowercase().chars().collect();
    let mut out: Vec<String> = chars.windows(2).map(|w| token(&w.iter().collect::<String>())).collect();
    out.sort();
    out.dedup();
    out
}

/// The text a ticket is found by: its number, description and address.
pub fn ticket_text(no: &str, description: &str, address: Option<&str>) -> String {
    format!("{no}\n{description}\n{}", address.unwrap_or(""))
}

/// The tokens of a search: `None` when the text is shorter than two characters (no token; the
/// caller scans).
pub fn query_tokens(q: &str) -> Option<Vec<String>> {
    let t = bigrams(q);
    (!t.is_empty()).then_some(t)
}
