//! xprotect
