#!/usr/bin/env python3
"""An independent verifier of Writ evidence bundles, written from docs/FORMAT.md (the bundle
section) alone: Python 3 standard library only, no code shared with Writ.

Usage: independent_verifier.py <bundle dir> [--verifier-key <key string or file>] [--approver-keys <directory file>]
                               [--channel-key <file>] [--tsa-cert <PEM file>]
Proofs of identity are re-checked by independent_identity.py (Ed25519 and RS256; see there); RFC 3161
time-stamps by independent_timestamps.py (with the openssl command line).
Exit 0 intact, 1 damaged (each problem printed as "<file> [seq N]: <problem>"), 2 usage error,
3 internally consistent but no key was pinned (checked with the bundle's own key.pub: signer unknown).
"""
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import unicodedata

# ---- Ed25519 verification, after RFC 8032 section 6 (reference code) ----
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    A = (a[1] - a[0]) * (b[1] - b[0]) % P
    B = (a[1] + a[0]) * (b[1] + b[0]) % P
    C = 2 * a[3] * b[3] * D % P
    Dd = 2 * a[2] * b[2] % P
    E, F, G, H = B - A, Dd - C, Dd + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


G_Y = 4 * pow(5, P - 2, P) % P
G_X = _recover_x(G_Y, 0)
G = (G_X, G_Y, 1, G_X * G_Y % P)


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, 'little')
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


def ed25519_verify(public, msg, sig):
    if len(public) != 32 or len(sig) != 64:
        return False
    A = _decompress(public)
    R = _decompress(sig[:32])
    if A is None or R is None:
        return False
    s = int.from_bytes(sig[32:], 'little')
    if s >= L:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), 'little') % L
    return _equal(_mul(s, G), _add(R, _mul(h, A)))


# ---- helpers ----
def sha256(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p)
    return h.digest()


B64 = re.compile(r'^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$')


def b64(text):
    """Standard base64 in its one canonical spelling, else None."""
    if not isinstance(text, str) or not B64.match(text):
        return None
    raw = base64.b64decode(text)
    return raw if base64.b64encode(raw).decode() == text else None


class Key:
    def __init__(self, text):
        parts = text.split('+', 2)
        if len(parts) != 3 or not parts[0] or not re.match(r'^[0-9a-f]{8}$', parts[1]):
            raise ValueError('a verifier key is <name>+<8 hex key id>+<base64 key>')
        raw = b64(parts[2])
        if raw is None or len(raw) != 33 or raw[0] != 1:
            raise ValueError('the key is not base64 of 0x01 || 32-byte Ed25519 public key')
        self.name = parts[0]
        self.id = sha256(parts[0].encode(), b'\n', raw)[:4]
        if self.id.hex() != parts[1]:
            raise ValueError('the key id does not match the name and key')
        self.public = raw[1:]


def verify_note(data, key):
    """A C2SP signed note: returns (text, None) when signed by key, else (None, problem)."""
    try:
        note = data.decode('utf-8')
    except UnicodeDecodeError:
        return None, 'not UTF-8'
    split = note.rfind('\n\n')
    if split < 0:
        return None, 'no blank line before the signatures'
    text, block = note[:split + 1], note[split + 2:]
    if not block.endswith('\n'):
        return None, 'signature block does not end with a newline'
    if any(ord(c) < 0x20 and c != '\n' for c in note):
        return None, 'control character in the note'
    mine = []
    for line in block[:-1].split('\n'):
        if not line.startswith('\u2014 '):
            return None, 'signature line does not start with an em dash and a space'
        name, _, sig = line[2:].partition(' ')
        raw = b64(sig)
        if raw is None or len(raw) < 5:
            return None, 'signature is not base64 of key id and signature'
        if name == key.name and raw[:4] == key.id:
            mine.append(raw[4:])
    if not mine:
        return None, 'no signature by the verifier key'
    for sig in mine:
        if not ed25519_verify(key.public, text.encode('utf-8'), sig):
            return None, 'the signature does not verify'
    return text, None


def node(left, right):
    return sha256(b'\x01', left, right)


def verify_inclusion(leaf, index, size, proof, root):
    """RFC 9162 section 2.1.3.2."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


# ---- RFC 8785 (JCS): the canonical bytes must be exactly the serialisation of their JSON ----
class NotCanonical(ValueError):
    pass


def _no_duplicates(pairs):
    seen = {}
    for k, v in pairs:
        if k in seen:
            raise NotCanonical('duplicate key %s' % json.dumps(k, ensure_ascii=False))
        seen[k] = v
    return seen


def _refuse_constant(name):
    raise NotCanonical('%s is not JSON' % name)


def _es_number(x):
    """ECMAScript Number::toString, which RFC 8785 uses for numbers."""
    if x != x or x in (float('inf'), float('-inf')):
        raise NotCanonical('a number beyond what an IEEE 754 double holds')
    if x == 0:
        return '0'
    sign = '-' if x < 0 else ''
    mantissa, _, exp = ('%r' % abs(x)).partition('e')
    digits = mantissa.replace('.', '')
    point = mantissa.index('.') if '.' in mantissa else len(mantissa)
    n = point + (int(exp) if exp else 0) - (len(digits) - len(digits.lstrip('0')))
    digits = digits.strip('0')
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + '0' * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + '.' + digits[n:]
    if -6 < n <= 0:
        return sign + '0.' + '0' * -n + digits
    e = n - 1
    return sign + digits[0] + ('.' + digits[1:] if k > 1 else '') + 'e' + ('+' if e >= 0 else '-') + str(abs(e))


def jcs(value):
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, (int, float)):
        return _es_number(float(value))
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list):
        return '[' + ','.join(jcs(v) for v in value) + ']'
    keys = sorted(value, key=lambda k: k.encode('utf-16-be'))
    return '{' + ','.join(json.dumps(k, ensure_ascii=False) + ':' + jcs(value[k]) for k in keys) + '}'


def canonical_problem(data):
    """None when data is exactly the RFC 8785 serialisation of the JSON it holds, else why not."""
    try:
        value = json.loads(data.decode('utf-8'), object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                           parse_int=float)
        if jcs(value).encode('utf-8') != data:
            return 'not the RFC 8785 serialisation of its JSON'
    except NotCanonical as e:
        return str(e)
    except (ValueError, UnicodeError, RecursionError):
        return 'not UTF-8 JSON'
    return None


def statement_file(operation_id):
    safe = re.sub(r'[^A-Za-z0-9._-]', lambda m: ''.join('_%02x' % b for b in m.group(0).encode()), operation_id)
    return 'statement.%s.dsse.json' % safe


# ---- signed decisions (FORMAT.md "Signed decisions" and 10.6 step 7) ----
def canonical_id(raw):
    """NFKC, strip, lower-case: enough to match the directory's ids with the canonical ids Writ records."""
    return unicodedata.normalize('NFKC', raw).strip().lower() if isinstance(raw, str) else None


def raw_public_key(text):
    """An approver key: base64 of the 32 raw bytes, or a PEM SPKI whose last 32 bytes are the key."""
    text = text.strip()
    if 'BEGIN' in text:
        body = ''.join(line for line in text.splitlines() if not line.startswith('-----'))
        der = base64.b64decode(body)
        if len(der) != 44 or not der.startswith(bytes.fromhex('302a300506032b6570032100')):
            raise ValueError('not an Ed25519 SPKI public key')
        return der[-32:]
    raw = base64.b64decode(text, validate=True)
    if len(raw) != 32:
        raise ValueError('an Ed25519 public key in base64 must decode to 32 bytes')
    return raw


def load_approver_keys(path):
    directory = json.load(open(path, encoding='utf-8'))
    keys = {}
    for entry in directory['approvers']:
        if entry.get('publicKey') is not None:
            keys.setdefault(canonical_id(entry['id']), []).append(raw_public_key(entry['publicKey']))
    return keys


PREFIX = {'approve': 'writ-approve-v2', 'reject': 'writ-reject-v1', 'resolve': 'writ-resolve-v1'}
DECISIONS = {'approval.granted': (True, None), 'approval.rejected': (True, None), 'approval.refused': (False, None),
             'operation.resolved': (True, 'resolve'), 'operation.resolve_refused': (False, 'resolve')}


def decision_message(kind, operation_id, digest, payload):
    lines = [PREFIX[kind], operation_id, digest]
    if kind == 'resolve':
        # RFC 8785 of {"action", "reason"}: two string members in this order, minimal escapes.
        words = json.dumps({'action': str(payload.get('action', '')), 'reason': str(payload.get('reason', ''))},
                           ensure_ascii=False, separators=(',', ':'), sort_keys=True)
        lines.append(hashlib.sha256(words.encode('utf-8')).hexdigest())
    return ''.join(line + '\n' for line in lines).encode('utf-8')


def check_decisions(records, approver_keys, bad, warn):
    required = set()
    for _, _, rec in records:
        payload = rec.get('payload') if isinstance(rec.get('payload'), dict) else {}
        if (rec.get('type') == 'approval.requested' and payload.get('signed') is True) or \
           (rec.get('type') == 'policy.decided' and isinstance(payload.get('decision'), dict) and payload['decision'].get('signedApprovals') is True):
            required.add(rec.get('operationId'))
    signed = 0
    for seq, _, rec in records:
        if rec.get('type') not in DECISIONS:
            continue
        accepted, kind = DECISIONS[rec['type']]
        payload = rec.get('payload') if isinstance(rec.get('payload'), dict) else {}
        who = payload.get('approver', payload.get('by'))
        name = '%s by %s' % (rec['type'], who)
        sig = payload.get('signature')
        if not isinstance(sig, str):
            if accepted and rec.get('operationId') in required:
                bad('records.jsonl', '%s: accepted without a signature although signed approvals are required' % name, seq)
            continue
        signed += 1
        if approver_keys is None:
            continue
        kind = kind or payload.get('kind')
        digest = payload.get('digest')
        if kind not in PREFIX or not isinstance(digest, str) or not isinstance(rec.get('operationId'), str):
            if accepted:
                bad('records.jsonl', '%s: signed decision without kind and digest' % name, seq)
            continue
        message = decision_message(kind, rec['operationId'], digest, payload)
        raw = b64(sig)
        pinned = approver_keys.get(canonical_id(who), [])
        good = [k for k in pinned if raw is not None and ed25519_verify(k, message, raw)]
        if accepted:
            if not pinned:
                bad('records.jsonl', '%s: no key of %s is pinned' % (name, who), seq)
            elif not good:
                bad('records.jsonl', '%s: the signature does not verify against the pinned key' % name, seq)
            elif payload.get('keyId') != hashlib.sha256(good[0]).hexdigest():
                bad('records.jsonl', '%s: the recorded keyId is not the pinned key\'s' % name, seq)
        elif payload.get('signatureValid') is True and not good:
            bad('records.jsonl', '%s: recorded as valid but does not verify against the pinned key' % name, seq)
    if approver_keys is None and signed:
        warn('%d signed decision(s): signatures were not checked against pinned approver keys (pass --approver-keys)' % signed)
    return signed


# The lifecycle table of docs/FORMAT.md section 10.6: from each state, the states it may move to,
# and the outcomes the state before `closed` may close with.
TRANSITIONS = {
    'planned': ['validated', 'validation_failed'], 'validated': ['awaiting_approval', 'executing'],
    'awaiting_approval': ['approved', 'rejected', 'expired'], 'approved': ['executing', 'awaiting_approval'],
    'executing': ['executed', 'execution_failed'], 'executed': ['verifying'], 'verifying': ['verified', 'verification_failed'],
    'verified': ['executing', 'closed'], 'validation_failed': ['closed'], 'rejected': ['closed'], 'expired': ['closed'],
    'execution_failed': ['compensating', 'closed'], 'verification_failed': ['compensating', 'closed'],
    'compensating': ['compensated', 'compensation_failed'], 'compensated': ['closed'],
    'compensation_failed': ['needs_intervention'], 'needs_intervention': ['closed'], 'closed': [],
}
CLOSING = {'verified': ['succeeded', 'dry_run'], 'validation_failed': ['invalid'], 'rejected': ['rejected'], 'expired': ['expired'],
           'compensated': ['rolled_back'], 'execution_failed': ['failed'], 'verification_failed': ['failed'],
           'needs_intervention': ['resolved_manually']}


def path_problem(path, outcome, recorded):
    """The illegal step of a closing record's path, or None (FORMAT.md 10.6)."""
    if not isinstance(path, list) or len(path) < 2 or not all(isinstance(s, str) and s in TRANSITIONS for s in path):
        return 'path'
    if path[0] != 'planned':
        return '(start) -> %s' % path[0]
    for a, b in zip(path, path[1:]):
        if b not in TRANSITIONS[a]:
            return '%s -> %s' % (a, b)
    if path[-1] != 'closed':
        return '%s -> (end)' % path[-1]
    if not isinstance(outcome, str) or outcome not in CLOSING.get(path[-2], []):
        return '%s -> closed' % path[-2]
    # The records' states, in order, must each be passed through by the path.
    at, previous = 0, None
    for state in recorded:
        if state == previous:
            continue
        while at < len(path) - 1 and path[at] != state:
            at += 1
        if at == len(path) - 1:
            return '%s -> %s' % (previous or '(start)', state)
        previous = state
    return None


def check_lifecycle(records, bad):
    states, closed = {}, set()
    for seq, _, rec in records:
        op, kind, state = rec.get('operationId'), rec.get('type'), rec.get('state')
        if not isinstance(op, str) or op == '':
            continue
        state = state if isinstance(state, str) else None
        if op in closed:
            if kind == 'operation.closed' or state is not None:
                bad('records.jsonl', 'illegal_path: operation %s (closed -> %s): a record after it closed' % (op, state), seq)
            continue
        if kind == 'operation.closed':
            closed.add(op)
            payload = rec.get('payload') if isinstance(rec.get('payload'), dict) else {}
            step = (state or 'null') if state != 'closed' else path_problem(payload.get('path'), payload.get('outcome'), states.pop(op, []))
            if step:
                bad('records.jsonl', 'illegal_path: operation %s closed on a path the lifecycle does not allow (%s)' % (op, step), seq)
        elif state is not None:
            states.setdefault(op, []).append(state)


USAGE = 'usage: independent_verifier.py <dir> [--verifier-key <key|file>] [--approver-keys <directory file>] [--channel-key <file>] [--tsa-cert <PEM file>]'


# While the bundles of one export are checked together: each one's chain and export member.
EXPORT_SET = None


def per_chain_dirs(top):
    names = sorted(os.listdir(top))
    if not names or 'manifest.json' in names:
        return None
    dirs = [os.path.join(top, n) for n in names]
    return dirs if all(os.path.isfile(os.path.join(d, 'manifest.json')) for d in dirs) else None


def export_member_ok(membership, chain):
    if not isinstance(membership, dict) or not isinstance(membership.get('id'), str):
        return False
    chains = membership.get('chains')
    return (re.fullmatch(r'[0-9a-f]{32}', membership['id']) is not None and isinstance(chains, list) and
            len(chains) > 0 and all(isinstance(c, str) for c in chains) and chains == sorted(set(chains)) and
            chain in chains)


def verify_export(head, flags, dirs):
    global EXPORT_SET
    EXPORT_SET = []
    codes = []
    for d in dirs:
        print('bundle %s:' % d)
        codes.append(main(head + [d] + flags))
    members, EXPORT_SET = EXPORT_SET, None
    problems = []
    ref = next((m for _, m in members if m is not None), None)
    if ref is None:
        print('warning: no bundle names its export: nothing shows whether a chain was left out', file=sys.stderr)
    else:
        seen = set()
        for chain, m in members:
            if m is None or m['id'] != ref['id'] or m['chains'] != ref['chains']:
                problems.append('chain %s: not written by the same export as the others' % chain)
            if chain in seen:
                problems.append('chain %s: a second bundle of it' % chain)
            seen.add(chain)
        missing = [c for c in ref['chains'] if c not in seen]
        if missing:
            problems.append('the export wrote bundles of chains %s; %s not given' % (', '.join(ref['chains']), ', '.join(missing)))
    if problems:
        print('NOT THE WHOLE EXPORT')
        for p in problems:
            print('  ' + p)
        return 1
    for code in (2, 1, 3):
        if code in codes:
            return code
    return 0


def main(argv):
    args = argv[1:]
    options = {}
    for flag in ('--verifier-key', '--approver-keys', '--channel-key', '--tsa-cert'):
        if flag in args:
            i = args.index(flag)
            if i + 1 >= len(args):
                print(USAGE, file=sys.stderr)
                return 2
            options[flag] = args[i + 1]
            del args[i:i + 2]
    key_arg = options.get('--verifier-key')
    if len(args) != 1 or not os.path.isdir(args[0]):
        print(USAGE, file=sys.stderr)
        return 2
    approver_keys = None
    if '--approver-keys' in options:
        try:
            approver_keys = load_approver_keys(options['--approver-keys'])
        except (ValueError, KeyError, TypeError, OSError, binascii.Error) as e:
            print('unusable approver keys: %s' % e, file=sys.stderr)
            return 2
    channel_keys = None
    if '--channel-key' in options:
        try:
            channel_keys = independent_identity.load_channel_keys(options['--channel-key'])
        except (ValueError, KeyError, TypeError, OSError, binascii.Error) as e:
            print('unusable channel key: %s' % e, file=sys.stderr)
            return 2
    tsa_cert = options.get('--tsa-cert')
    if tsa_cert is not None and not os.path.isfile(tsa_cert):
        print('unusable TSA certificate: %s is not a file' % tsa_cert, file=sys.stderr)
        return 2
    bundle = args[0]
    dirs = per_chain_dirs(bundle) if EXPORT_SET is None else None
    if dirs is not None:
        flags = [x for flag, value in options.items() for x in (flag, value)]
        return verify_export([argv[0]], flags, dirs)
    files = {}
    for name in sorted(os.listdir(bundle)):
        path = os.path.join(bundle, name)
        files[name] = open(path, 'rb').read() if os.path.isfile(path) else b''

    problems = []

    def bad(file, problem, seq=None):
        problems.append('%s%s: %s' % (file, '' if seq is None else ' seq %d' % seq, problem))

    try:
        if key_arg is not None:
            key = Key(key_arg if '+' in key_arg else open(key_arg).read().strip())
        else:
            key = Key(files['key.pub'].decode().rstrip('\n'))
            print('warning: no --verifier-key: using the bundle\'s own key.pub, which proves only internal consistency', file=sys.stderr)
    except (ValueError, KeyError, OSError, UnicodeDecodeError) as e:
        print('unusable verifier key: %s' % e, file=sys.stderr)
        return 2

    # 1. The manifest's signature and every file's hash.
    manifest_bytes = files.get('manifest.json')
    sig = files.get('manifest.sig')
    manifest = None
    if manifest_bytes is None or sig is None:
        bad('manifest.json', 'manifest.json or manifest.sig is missing')
    else:
        text, problem = verify_note(sig, key)
        if problem:
            bad('manifest.sig', problem)
        elif text != 'writ-bundle-manifest/v1\n%s\n' % hashlib.sha256(manifest_bytes).hexdigest():
            bad('manifest.json', 'its SHA-256 is not the signed one')
        try:
            manifest = json.loads(manifest_bytes.decode('utf-8'))
            if manifest.get('format') not in ('writ-bundle/1', 'writ-bundle/2', 'writ-bundle/3'):
                raise ValueError('format')
        except (ValueError, UnicodeDecodeError, AttributeError):
            bad('manifest.json', 'not a writ-bundle/1, /2 or /3 manifest')
            manifest = None
    if manifest is not None:
        listed = set()
        for entry in manifest.get('files', []):
            name = entry.get('name')
            listed.add(name)
            data = files.get(name)
            if data is None:
                bad(name, 'listed but missing')
            elif hashlib.sha256(data).hexdigest() != entry.get('sha256') or len(data) != entry.get('size'):
                bad(name, 'SHA-256 or size differs from the manifest')
        for name in files:
            if name not in listed and name not in ('manifest.json', 'manifest.sig'):
                bad(name, 'not listed in the manifest')
    chain = manifest.get('chain') if manifest else None
    # The export that wrote the bundle (FORMAT.md 10.5): alone, the bundle must be all of it.
    membership = manifest.get('export') if manifest else None
    if membership is not None and not export_member_ok(membership, chain):
        bad('manifest.json', 'its export member is malformed')
        membership = None
    if EXPORT_SET is not None:
        EXPORT_SET.append((chain, membership))
    elif membership is not None and membership['chains'] != [chain]:
        bad('manifest.json', 'one of the bundles of an export over chains %s; the others were not given' % ', '.join(membership['chains']))

    # 2. The checkpoint.
    size = root = verified_checkpoint = None
    cp = files.get('checkpoint.txt')
    if cp is None:
        bad('checkpoint.txt', 'missing')
    else:
        text, problem = verify_note(cp, key)
        if problem:
            bad('checkpoint.txt', problem)
        else:
            lines = text[:-1].split('\n')
            ok = len(lines) >= 3 and re.match(r'^(0|[1-9][0-9]*)$', lines[1]) and b64(lines[2]) is not None and len(b64(lines[2])) == 32
            if not ok:
                bad('checkpoint.txt', 'not origin, size and root')
            elif manifest and (lines[0] != manifest.get('origin') or not lines[0].endswith('/' + str(chain))):
                bad('checkpoint.txt', 'origin is not the manifest\'s / not of the chain')
            else:
                size, root = int(lines[1]), b64(lines[2])
                verified_checkpoint = (size, lines[0], cp)

    # 2b. RFC 3161 time-stamps of the checkpoint (FORMAT.md sections 10 and 15).
    warn = lambda w: print('warning: ' + w, file=sys.stderr)  # noqa: E731
    stamps, stamped_at = independent_timestamps.check_timestamps(files, key, verified_checkpoint, tsa_cert, bad, warn)

    # 3. Records: own hash, and links between consecutive seqs.
    records = []
    data = files.get('records.jsonl', b'')
    try:
        text = data.decode('utf-8')
    except UnicodeDecodeError:
        text = ''
    if not text.endswith('\n'):
        bad('records.jsonl', 'missing, not UTF-8 or not newline-terminated')
    else:
        prev = None
        for n, line in enumerate(text[:-1].split('\n'), 1):
            try:
                obj = json.loads(line)
                seq = obj['seq']
                canonical = b64(obj['canonical'])
                prev_hash = bytes.fromhex(obj['prevHash'])
                own = bytes.fromhex(obj['hash'])
                if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1 or canonical is None or len(prev_hash) != 32 or len(own) != 32:
                    raise ValueError
            except (ValueError, KeyError, TypeError):
                bad('records.jsonl', 'line %d is not a record line' % n)
                continue
            if obj.get('chain') != chain:
                bad('records.jsonl', 'not of the bundle\'s chain', seq)
            if prev is not None and seq <= prev[0]:
                bad('records.jsonl', 'seq out of order', seq)
            if sha256(prev_hash, canonical) != own:
                bad('records.jsonl', 'hash is not SHA-256(prevHash || canonical)', seq)
            if seq == 1 and prev_hash != bytes(32):
                bad('records.jsonl', 'first record does not link to 32 zero bytes', seq)
            if prev is not None and prev[0] == seq - 1 and prev[1] != prev_hash:
                bad('records.jsonl', 'prevHash is not the previous record\'s hash', seq)
            try:
                rec = json.loads(canonical.decode('utf-8'))
            except (ValueError, UnicodeDecodeError):
                rec = None
                bad('records.jsonl', 'canonical bytes are not JSON', seq)
            else:
                problem = canonical_problem(canonical)
                if problem:
                    bad('records.jsonl', 'not_canonical: %s' % problem, seq)
            records.append((seq, canonical, rec if isinstance(rec, dict) else {}))
            prev = (seq, own)

    # 4. Inclusion proofs against the checkpoint's root. Format 1 spells each proof's hashes out;
    # format 2 names them by their place in one list of nodes, every node on some record's path.
    shared = manifest is not None and manifest.get('format') in ('writ-bundle/2', 'writ-bundle/3')
    try:
        proofs = json.loads(files.get('proofs.json', b'').decode('utf-8'))
        plist = proofs['proofs']
        nodes = [b64(n) for n in proofs['nodes']] if shared else None
        if nodes is not None and any(n is None or len(n) != 32 for n in nodes):
            raise ValueError('nodes')
        if not shared and 'nodes' in proofs:
            raise ValueError('nodes in format 1')
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        bad('proofs.json', 'missing or not a proofs file of the manifest\'s format')
        plist = None
    if plist is not None and size is not None:
        if proofs.get('treeSize') != size:
            bad('proofs.json', 'treeSize is not the checkpoint\'s size')
        if len(plist) != len(records):
            bad('proofs.json', 'one proof per record expected')
        used = set()
        for (seq, canonical, _), proof in zip(records, plist):
            if not isinstance(proof, dict):
                hashes = [None]
            elif shared:
                path = proof.get('path')
                ok = isinstance(path, list) and all(type(i) is int and 0 <= i < len(nodes) for i in path)
                hashes = [nodes[i] for i in path] if ok else [None]
                used.update(path if ok else [])
            else:
                hashes = [b64(h) for h in proof.get('hashes', [])]
            if not isinstance(proof, dict) or proof.get('seq') != seq or proof.get('leafIndex') != seq - 1 or any(h is None or len(h) != 32 for h in hashes):
                bad('proofs.json', 'proof is not for this record', seq)
            elif not verify_inclusion(sha256(b'\x00', canonical), seq - 1, size, hashes, root):
                bad('proofs.json', 'inclusion proof does not reach the checkpoint root', seq)
        if shared and len(used) != len(nodes):
            bad('proofs.json', 'a node is on no record\'s path')

    # 5. DSSE statements: signature over PAE, subjects = the operation's records.
    operations = {}
    for seq, canonical, rec in records:
        op = rec.get('operationId')
        if isinstance(op, str):
            operations.setdefault(op, {})['%s/%d' % (chain, seq)] = hashlib.sha256(canonical).hexdigest()
    # Format 3 has them as the lines of statements.intoto.jsonl, each for a different operation;
    # earlier formats as one statement.<id>.dsse.json each.
    one_file = manifest is not None and manifest.get('format') == 'writ-bundle/3'
    envelopes = {}  # operation id -> (where, envelope bytes)
    if one_file:
        for name in files:
            if name.startswith('statement.') and name.endswith('.dsse.json'):
                bad(name, 'a statement file in a format 3 bundle')
        data = files.get('statements.intoto.jsonl', b'')
        if data and not data.endswith(b'\n'):
            bad('statements.intoto.jsonl', 'does not end with a newline')
        lines = data.split(b'\n') if data else []
        if data.endswith(b'\n'):
            lines.pop()
        for number, line in enumerate(lines, 1):
            where = 'statements.intoto.jsonl line %d' % number
            try:
                st = json.loads(b64(json.loads(line.decode('utf-8'))['payload']).decode('utf-8'))
                op = st['predicate']['operationId']
            except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
                bad(where, 'not a DSSE envelope of an in-toto Statement')
                continue
            if op not in operations:
                bad(where, 'a statement for no operation in records.jsonl')
            elif op in envelopes:
                bad(where, 'a second statement of operation %s' % op)
            else:
                envelopes[op] = (where, line)
    else:
        if 'statements.intoto.jsonl' in files:
            bad('statements.intoto.jsonl', 'a format 3 file in an earlier format\'s bundle')
        for name in files:
            if name.startswith('statement.') and name.endswith('.dsse.json') and name not in [statement_file(op) for op in operations]:
                bad(name, 'a statement for no operation in records.jsonl')
        for op in operations:
            if statement_file(op) in files:
                envelopes[op] = (statement_file(op), files[statement_file(op)])
    for op, subjects in operations.items():
        name, envelope = envelopes.get(op, (statement_file(op) if not one_file else 'statements.intoto.jsonl', None))
        try:
            env = json.loads(envelope.decode('utf-8'))
            payload = b64(env['payload'])
            if env['payloadType'] != 'application/vnd.in-toto+json' or payload is None:
                raise ValueError
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            bad(name, 'missing or not a DSSE envelope' + ('' if envelope is not None else ' (operation %s)' % op))
            continue
        ptype = env['payloadType'].encode()
        pae = b'DSSEv1 %d %s %d %s' % (len(ptype), ptype, len(payload), payload)
        mine = [s for s in env.get('signatures', []) if isinstance(s, dict) and s.get('keyid') == key.id.hex()]
        if not mine or not all(b64(s.get('sig')) is not None and ed25519_verify(key.public, pae, b64(s['sig'])) for s in mine):
            bad(name, 'DSSE signature missing or does not verify')
        try:
            st = json.loads(payload.decode('utf-8'))
            got = {s['name']: s['digest']['sha256'] for s in st['subject']}
            if st['_type'] != 'https://in-toto.io/Statement/v1' or st['predicateType'] != 'https://writ.dev/operation/v1' or st['predicate']['operationId'] != op:
                raise ValueError
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            bad(name, 'payload is not an in-toto Statement of this operation')
            continue
        if got != subjects:
            bad(name, 'subjects do not match the operation\'s records')

    # 6. Governance: every decision's policy text and directory of people are in the bundle, hash to
    # the revision the decision names, and are what the ledger's governance.* record holds.
    on_record = {}
    for seq, _, rec in records:
        payload = rec.get('payload') if isinstance(rec.get('payload'), dict) else {}
        if rec.get('type') == 'governance.policy':
            on_record[('policy', payload.get('revision'))] = (seq, payload.get('policy'))
        elif rec.get('type') == 'governance.directory':
            on_record[('directory', payload.get('version'))] = (seq, payload.get('directory'))
    needed = {key: seq for key, (seq, _) in on_record.items()}
    for seq, _, rec in records:
        if rec.get('type') in ('approval.granted', 'approval.rejected', 'approval.refused', 'operation.resolved', 'operation.resolve_refused'):
            # A decision names the directory version that judged it (it may be newer than the policy decision's).
            version = (rec.get('payload') or {}).get('directoryVersion') if isinstance(rec.get('payload'), dict) else None
            if version is not None:
                needed.setdefault(('directory', version), seq)
            continue
        if rec.get('type') == 'operation.planned':
            # The directory a request's proof of identity was checked against.
            version = (rec.get('payload') or {}).get('directoryVersion') if isinstance(rec.get('payload'), dict) else None
            if version is not None:
                needed.setdefault(('directory', version), seq)
            continue
        if rec.get('type') != 'policy.decided':
            continue
        decision = (rec.get('payload') or {}).get('decision') or {}
        if 'directoryVersion' not in decision:
            continue  # decided before governance was recorded
        needed.setdefault(('policy', decision.get('policyRevision')), seq)
        needed.setdefault(('directory', decision.get('directoryVersion')), seq)
    for (kind, revision), seq in needed.items():
        if not isinstance(revision, str) or not re.match(r'^sha256:[0-9a-f]{64}$', revision):
            bad('governance', 'a %s revision is not sha256:<hex>' % kind, seq)
            continue
        name = 'governance.%s.%s.json' % (kind, revision[7:])
        data = files.get(name)
        if data is None:
            bad(name, 'missing: the records name this %s' % kind, seq)
            continue
        if hashlib.sha256(data).hexdigest() != revision[7:]:
            bad(name, 'its SHA-256 is not the revision the records name', seq)
        if (kind, revision) not in on_record:
            bad(name, 'no governance.%s record puts it on the record' % kind, seq)
            continue
        try:
            if json.loads(data.decode('utf-8')) != on_record[(kind, revision)][1]:
                bad(name, 'differs from its governance.%s record' % kind, on_record[(kind, revision)][0])
        except (ValueError, UnicodeDecodeError):
            bad(name, 'not JSON', seq)
    for name in files:
        m = re.match(r'^governance\.(policy|directory)\.([0-9a-f]{64})\.json$', name)
        if m and (m.group(1), 'sha256:' + m.group(2)) not in needed:
            bad(name, 'no record names this governance')

    # 7. Each closed operation's path against the lifecycle table and its records' states.
    check_lifecycle(records, bad)
    # 8. Signed decisions against the pinned approver keys.
    signed = check_decisions(records, approver_keys, bad, lambda w: print('warning: ' + w, file=sys.stderr))
    # 9. Proofs of identity, re-checked from the proof each record carries (FORMAT.md "Identity proofs").
    notices = []
    proved, asserted = independent_identity.check_identities(
        records, channel_keys, bad, notices.append, lambda w: print('warning: ' + w, file=sys.stderr))
    if proved and channel_keys is None and any(isinstance(obj_of(rec.get('payload')).get('identity'), dict) and
                                               'assertion' in rec['payload']['identity'] for _, _, rec in records):
        print('warning: channel assertions were checked against the bundle\'s own directory: pin Writ\'s channel key with --channel-key', file=sys.stderr)
    for n in notices:
        print('notice: ' + n)
    # 10. Personal values: disclosures against the commitments the records hold (FORMAT.md 18).
    disclosed = independent_sealed.check_sealed(files, records, bad)

    if problems:
        print('DAMAGED')
        for p in problems:
            print('  ' + p)
        return 1
    if key_arg is None:
        print('internally consistent, but the signer is unknown: pin the log\'s public key with --verifier-key')
        return 3
    print('intact: %d records, %d operations, checkpoint size %s' % (len(records), len(operations), size))
    if proved:
        print('%d proof(s) of identity re-checked' % proved)
    if asserted:
        print('%d request(s) or decision(s) with identity not verified (asserted)' % asserted)
    if signed:
        print('%d signed decision(s) %s' % (signed, 'verified against the pinned approver keys' if approver_keys is not None else 'not checked against pinned approver keys'))
    if stamped_at and tsa_cert is not None:
        print('checkpoint %d time-stamped %s by the pinned time-stamp authority' % (size, stamped_at))
    elif stamps and tsa_cert is None:
        print('time-stamp not checked (no TSA certificate pinned)')
    if disclosed:
        print('%d disclosed value(s) checked against their commitments' % disclosed)
    return 0


def obj_of(value):
    return value if isinstance(value, dict) else {}


if __name__ == '__main__':
    import independent_identity  # noqa: E402 (it imports this module for its primitives)
    import independent_timestamps  # noqa: E402 (likewise)
    import independent_sealed  # noqa: E402 (likewise)

    sys.exit(main(sys.argv))
