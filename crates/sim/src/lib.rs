//! The carrier simulator (work in progress).
