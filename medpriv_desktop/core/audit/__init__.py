"""An append-only, tamper-evident audit log (JSON lines, keyed hash chain, head kept outside the log).

Each entry holds: format version, sequence number, UTC time, OS user, action, the audit key's id, counts and ids, a
keyed HMAC of the input (never a plain hash, which could be reversed for short PHI by guessing), the previous entry's
hash and its own hash, an HMAC-SHA256 under a key derived from the audit key (``keys.load_key("audit")``). Entries
never hold text from notes, reports or DICOM headers: :meth:`AuditLog.record` accepts only numbers, booleans, ids,
HMACs and hashes, and refuses free strings outside a short list of fields.

The chain's head (last sequence number and hash, itself keyed) lives in the owner-only keys folder, away from the
log; an inter-process file lock makes read-tail-append-and-move-head one step. :func:`verify_chain` checks every line
and the head; :meth:`AuditLog.preflight` checks the end only and is called before a command starts work.

Tamper-evident, not tamper-proof. Someone who can change the log but not read the audit key cannot forge an entry,
recompute the chain, remove the last lines or delete the log without ``medpriv audit verify`` reporting it. The same
OS user who runs MedPriv can read the key and the head, so they can rewrite the whole history undetectably; against
them only a copy kept where that user cannot write helps (outside this module). Logs written
before keyed entries existed (format 1, unkeyed) still verify; a legacy entry after a keyed one is a break.
"""

from medpriv_desktop.core.audit.entries import FORMAT_VERSION, GENESIS, AuditError
from medpriv_desktop.core.audit.head import head_path_for
from medpriv_desktop.core.audit.log import AuditLog
from medpriv_desktop.core.audit.verify import VerifyResult, verify_chain

__all__ = ["FORMAT_VERSION", "GENESIS", "AuditError", "AuditLog", "VerifyResult", "head_path_for", "verify_chain"]
