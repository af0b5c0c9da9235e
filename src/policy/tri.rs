//! Three-valued logic: the analysis says `Unknown` rather than guess.

use std::ops::Not;

/// True, False, or Unknown (Kleene logic). `Unknown` means "this construct
/// could not be decided" (unknown operator, malformed value, unresolved
/// policy variable); callers treat it conservatively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tri {
    True,
    False,
    Unknown,
}

impl Tri {
    pub fn from_bool(b: bool) -> Tri {
        if b {
            Tri::True
        } else {
            Tri::False
        }
    }

    pub fn and(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::False, _) | (_, Tri::False) => Tri::False,
            (Tri::True, Tri::True) => Tri::True,
            _ => Tri::Unknown,
        }
    }

    pub fn or(self, other: Tri) -> Tri {
        match (self, other) {
            (Tri::True, _) | (_, Tri::True) => Tri::True,
            (Tri::False, Tri::False) => Tri::False,
            _ => Tri::Unknown,
        }
    }

    /// OR over an iterator; `False` when empty.
    pub fn any<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        let mut acc = Tri::False;
        for t in items {
            acc = acc.or(t);
            if acc == Tri::True {
                return Tri::True;
            }
        }
        acc
    }

    /// AND over an iterator; `True` when empty.
    pub fn all<I: IntoIterator<Item = Tri>>(items: I) -> Tri {
        let mut acc = Tri::True;
        for t in items {
            acc = acc.and(t);
            if acc == Tri::False {
                return Tri::False;
            }
        }
        acc
    }

    pub fn is_true(self) -> bool {
        self == Tri::True
    }

    pub fn is_false(self) -> bool {
        self == Tri::False
    }

    /// True unless definitely false.
    pub fn maybe(self) -> bool {
        self != Tri::False
    }
}

impl Not for Tri {
    type Output = Tri;
    fn not(self) -> Tri {
        match self {
            Tri::True => Tri::False,
            Tri::False => Tri::True,
            Tri::Unknown => Tri::Unknown,
        }
    }
}

impl From<bool> for Tri {
    fn from(b: bool) -> Tri {
        Tri::from_bool(b)
    }
}
