//! Query-string values both faces read the same way; each face only words the refusal in its own
//! envelope and code (`Query parameter `…`: ` and the detail returned here).

use parceld_service::DEFAULT_PAGE_SIZE;
use parceld_store::Page;

/// The largest page number a list accepts: beyond it the offset would overflow.
pub const MAX_PAGE_NUMBER: u32 = u32::MAX / 2;

/// The page a list shows when its query names none: the first, of the default size.
pub fn first_page() -> Page {
    Page {
        number: 1,
        size: DEFAULT_PAGE_SIZE,
    }
}

/// A whole number from 1 to `max`, or the sentence that says what was wrong with `raw`.
pub fn whole_number(raw: &str, max: u32) -> Result<u32, String> {
    match raw.trim().parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(format!("`{raw}` must be a whole number from 1 to {max}.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_number_is_checked_against_its_range() {
        assert_eq!(whole_number(" 7 ", 10), Ok(7));
        assert_eq!(whole_number("10", 10), Ok(10));
        for refused in ["0", "11", "-1", "x", ""] {
            let detail = whole_number(refused, 10).unwrap_err();
            assert_eq!(
                detail,
                format!("`{refused}` must be a whole number from 1 to 10.")
            );
        }
    }
}
