//! What a `PATCH` that changes nothing does: nothing. A merge patch of `{}`, or one naming only values
//! that are stored already, is answered with the resource as it is: the same version (and `ETag`), no
//! event in the change feed or to webhooks, and no `update` in the access log (where the resource belongs
//! to a case, the caller was shown it, so the access log says `read`). A form that sends everything back
//! unchanged then does not make every other client's `If-Match` stale, nor wake every subscriber.
//!
//! Each resource's changes say whether they would alter its stored row (`alters`, next to the changes in
//! its store), built from [`differs`]. The checks a patch passes (its `If-Match`, the rules of its fields)
//! still come first: an unchanged patch against an old version is still `412`.

/// Whether a patch's field would change what is stored: it is named (`Some`), and not equal.
pub fn differs<T: PartialEq + ?Sized>(named: Option<&T>, stored: &T) -> bool {
    named.is_some_and(|value| value != stored)
}

/// What a patch did.
#[derive(Debug)]
pub enum Patched<T> {
    /// It changed the stored row: this is the new one.
    Changed(T),
    /// It would have changed nothing: this is the row as it is, untouched.
    Unchanged(T),
}

impl<T> Patched<T> {
    /// `current` written over by `write`, unless the changes `alter` nothing.
    pub fn unless_unchanged<E>(
        current: T,
        alter: bool,
        write: impl FnOnce(T) -> Result<T, E>,
    ) -> Result<Patched<T>, E> {
        if alter {
            Ok(Patched::Changed(write(current)?))
        } else {
            Ok(Patched::Unchanged(current))
        }
    }

    pub fn row(&self) -> &T {
        match self {
            Patched::Changed(row) | Patched::Unchanged(row) => row,
        }
    }

    pub fn into_row(self) -> T {
        match self {
            Patched::Changed(row) | Patched::Unchanged(row) => row,
        }
    }

    pub fn changed(&self) -> bool {
        matches!(self, Patched::Changed(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_not_named_changes_nothing() {
        assert!(!differs(None::<&str>, "stored"));
    }

    #[test]
    fn a_field_named_with_its_stored_value_changes_nothing() {
        assert!(!differs(Some("stored"), "stored"));
        assert!(!differs(Some(&None::<i32>), &None));
    }

    #[test]
    fn a_field_named_with_another_value_changes_it() {
        assert!(differs(Some("new"), "stored"));
        // Removing a value is a change.
        assert!(differs(Some(&None), &Some(3)));
    }
}
