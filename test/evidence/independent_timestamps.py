"""RFC 3161 time-stamps in a Writ bundle (timestamps.json), re-checked from docs/FORMAT.md (sections
10 and 15) alone: the token's ASN.1 and CMS signature are left to the `openssl` command line
(`openssl ts`, `openssl x509`), which shares no code with Writ; the rest is the Python 3 standard
library. Each problem is reported with the code `writ verify-bundle` gives it.
"""
import base64
import calendar
import hashlib
import json
import os
import re
import subprocess
import tempfile
import time

import independent_verifier as base

EKU_TIME_STAMPING = re.compile(r'X509v3 Extended Key Usage: critical\n\s+Time Stamping\s*$')
MONTHS = {m: i for i, m in enumerate(['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'], 1)}
OPENSSL_TIME = re.compile(r'(\w{3})\s+(\d+) (\d\d):(\d\d):(\d\d)(?:\.(\d+))? (\d{4}) GMT')


def openssl(*args):
    result = subprocess.run(['openssl'] + list(args), capture_output=True, text=True)
    return result.returncode, result.stdout, result.stderr


def epoch(text):
    """An openssl time ('Dec  1 18:00:23.65 2026 GMT') as seconds since 1970, with its fraction."""
    m = OPENSSL_TIME.search(text)
    if not m:
        return None
    whole = calendar.timegm((int(m.group(7)), MONTHS[m.group(1)], int(m.group(2)), int(m.group(3)),
                             int(m.group(4)), int(m.group(5))))
    return whole + (float('0.' + m.group(6)) if m.group(6) else 0.0)


def iso(seconds):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(seconds)) + ('%.3fZ' % (seconds % 1))[1:]


def certificate_problem(cert_path):
    """The pinned certificate must be for time-stamping alone, marked critical (RFC 3161 section 2.3)."""
    _, out, _ = openssl('x509', '-in', cert_path, '-noout', '-ext', 'extendedKeyUsage')
    if not EKU_TIME_STAMPING.search(out.strip()):
        return 'the pinned TSA certificate\'s extended key usage is not id-kp-timeStamping alone, critical'
    return None


def validity(cert_path):
    _, out, _ = openssl('x509', '-in', cert_path, '-noout', '-startdate', '-enddate')
    start = re.search(r'notBefore=(.*)', out)
    end = re.search(r'notAfter=(.*)', out)
    return epoch(start.group(1)) if start else None, epoch(end.group(1)) if end else None


def read_token(der_path):
    """(genTime, imprint) from `openssl ts -reply -token_in -text`, or None when it is no token."""
    code, out, _ = openssl('ts', '-reply', '-token_in', '-in', der_path, '-text')
    if code != 0 or 'Hash Algorithm: sha256' not in out:
        return None
    data = re.search(r'Message data:\n((?:\s+[0-9a-f]{4} - .*\n)+)', out)
    stamp = re.search(r'Time stamp: (.*)', out)
    if not data or not stamp or epoch(stamp.group(1)) is None:
        return None
    # Each dump line: offset, ' - ', up to 16 hex bytes (a '-' after the eighth), then the bytes as text.
    imprint = bytes.fromhex(''.join(line.split(' - ', 1)[1][:48].replace('-', ' ').replace(' ', '')
                                    for line in data.group(1).strip('\n').split('\n')))
    return epoch(stamp.group(1)), imprint


def check_token(workdir, n, token, note, cert_path):
    """(genTime, None) or (None, (code, problem)) for one token over one checkpoint note."""
    der = os.path.join(workdir, 'token%d.der' % n)
    data = os.path.join(workdir, 'note%d.txt' % n)
    open(der, 'wb').write(token)
    open(data, 'wb').write(note)
    parsed = read_token(der)
    if parsed is None:
        return None, ('TIMESTAMP_MALFORMED', 'not an RFC 3161 time-stamp token over a SHA-256 imprint')
    gen_time, imprint = parsed
    if imprint != hashlib.sha256(note).digest():
        return None, ('TIMESTAMP_OTHER_BYTES', 'the token stamps other bytes than the checkpoint\'s')
    if cert_path is None:
        return gen_time, None
    # The certificate's validity is judged at the token's own time, not today's, so openssl is told
    # not to check it. Judged before the signature: a token outside it is refused either way.
    start, end = validity(cert_path)
    if start is None or end is None or not start <= gen_time <= end:
        return None, ('TIMESTAMP_CERT_EXPIRED', 'stamped %s, outside the pinned TSA certificate\'s validity' % iso(gen_time))
    code, out, err = openssl('ts', '-verify', '-token_in', '-in', der, '-data', data, '-CAfile', cert_path,
                             '-untrusted', cert_path, '-partial_chain', '-no_check_time')
    if code != 0 or 'Verification: OK' not in out:
        return None, ('TIMESTAMP_UNTRUSTED', 'not signed by the pinned TSA certificate: %s' % (err.strip().splitlines() or ['?'])[-1])
    return gen_time, None


def check_timestamps(files, key, checkpoint, cert_path, bad, warn):
    """checkpoint: (size, origin, note bytes) of a verified checkpoint.txt, or None.
    Returns (tokens checked, the authority's time for checkpoint.txt when its token checked out, else None)."""
    name = 'timestamps.json'
    data = files.get(name)
    if data is None:
        if cert_path is not None:
            bad(name, 'TIMESTAMP_MISSING: missing: a TSA certificate was pinned, but the bundle carries no time-stamp token')
        return 0, None
    try:
        doc = json.loads(data.decode('utf-8'))
        stamps = doc['stamps']
        if not isinstance(doc['checkpoint'], int) or not all(isinstance(s['size'], int) and isinstance(s['note'], str)
                                                             and isinstance(s['token'], str) for s in stamps):
            raise ValueError
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        bad(name, 'TIMESTAMP_MALFORMED: not a time-stamps file')
        return 0, None
    if checkpoint is None:
        bad(name, 'TIMESTAMP_NO_CHECKPOINT: cannot be checked: there is no valid checkpoint')
        return 0, None
    size, origin, note = checkpoint
    if doc['checkpoint'] != size:
        bad(name, 'TIMESTAMP_NO_CHECKPOINT: names checkpoint %s, not checkpoint.txt\'s %d' % (doc['checkpoint'], size))
    if cert_path is not None:
        problem = certificate_problem(cert_path)
        if problem:
            bad(name, 'TIMESTAMP_CERT_PURPOSE: %s' % problem)
            return 0, None
    checked, previous, covering = 0, None, False
    with tempfile.TemporaryDirectory() as workdir:
        for n, stamp in enumerate(stamps):
            at = stamp['size']
            own = stamp['note'].encode('utf-8')
            if previous is not None and at <= previous[0]:
                bad(name, 'TIMESTAMP_MALFORMED: stamps are not in strictly ascending size')
                return checked, None
            if at == size and own != note:
                bad(name, 'TIMESTAMP_NO_CHECKPOINT: checkpoint %d: the note it names is not checkpoint.txt' % at)
                continue
            if at > size:
                bad(name, 'TIMESTAMP_NO_CHECKPOINT: checkpoint %d: beyond checkpoint.txt' % at)
                continue
            if at < size:
                text, problem = base.verify_note(own, key)
                lines = (text or '').split('\n')
                if problem or lines[0] != origin or lines[1] != str(at):
                    bad(name, 'TIMESTAMP_NO_CHECKPOINT: checkpoint %d: not a checkpoint of %s signed by the key' % (at, origin))
                    continue
            token = base.b64(stamp['token'])
            if token is None:
                bad(name, 'TIMESTAMP_MALFORMED: checkpoint %d: the token is not standard base64' % at)
                continue
            checked += 1
            gen_time, problem = check_token(workdir, n, token, own, cert_path)
            if problem:
                bad(name, '%s: checkpoint %d: %s' % (problem[0], at, problem[1]))
                continue
            if previous is not None and gen_time < previous[1]:
                bad(name, 'TIMESTAMP_OUT_OF_ORDER: checkpoint %d: stamped %s, before checkpoint %d\'s %s'
                    % (at, iso(gen_time), previous[0], iso(previous[1])))
                continue
            previous = (at, gen_time)
            covering = covering or at == size
    if not any(s['size'] == size for s in stamps):
        why = 'checkpoint %d carries no time-stamp token (%s)' % (size, doc.get('unstamped', 'no reason given'))
        if cert_path is not None:
            bad(name, 'TIMESTAMP_MISSING: a TSA certificate was pinned, but ' + why)
        else:
            warn(why)
    if checked and cert_path is None:
        warn('time-stamp not checked (no TSA certificate pinned)')
    return checked, (iso(previous[1]) if covering else None)
