use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

/// An aligned table; numbers are right-aligned.
pub fn table(header: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut out = Table::new();
    out.load_preset(UTF8_FULL_CONDENSED)
        .set_header(header.to_vec());
    for row in rows {
        out.add_row(row);
    }
    for (i, column) in out.column_iter_mut().enumerate() {
        if i > 0
            && header.get(i).is_some_and(|h| {
                !matches!(*h, "job" | "department" | "name" | "table" | "created at")
            })
        {
            column.set_cell_alignment(CellAlignment::Right);
        }
    }
    out.to_string()
}
