"""sealed.json, written from docs/FORMAT.md sections 10.8 and 18 alone: each disclosed value must hash,
with its salt and pointer, to the commitment its record holds at that pointer; every commitment in
the records must be listed."""
import base64
import hashlib
import json

import independent_verifier as iv


def _at(payload, pointer):
    value = payload
    for raw in pointer.split('/')[1:]:
        part = raw.replace('~1', '/').replace('~0', '~')
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _marker(value):
    if isinstance(value, dict) and list(value.keys()) == ['writ:sealed'] and isinstance(value['writ:sealed'], str):
        return value['writ:sealed']
    return None


def _places(value, pointer=''):
    marker = _marker(value)
    if marker is not None:
        return [(pointer, marker)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _places(v, '%s/%d' % (pointer, i))]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _places(v, '%s/%s' % (pointer, k.replace('~', '~0').replace('/', '~1')))]
    return []


def commitment(salt, pointer, value):
    return hashlib.sha256(iv.jcs(['writ.sealed.v1', salt, pointer, value]).encode('utf-8')).hexdigest()


def check_sealed(files, records, bad):
    """Returns the number of disclosures checked."""
    by_seq = {seq: rec for seq, _, rec in records}
    held = [(seq, p, c) for seq, _, rec in records for p, c in _places(iv.obj_of(rec.get('payload')))]
    data = files.get('sealed.json')
    if data is None:
        if held:
            bad('sealed.json', 'missing, and the records hold %d commitment(s)' % len(held))
        return 0
    try:
        doc = json.loads(data.decode('utf-8'))
        entries = doc['values'] if doc.get('v') == 1 else None
    except (ValueError, UnicodeDecodeError, AttributeError, KeyError, TypeError):
        entries = None
    if not isinstance(entries, list):
        bad('sealed.json', 'not {"v": 1, "values": [...]}')
        return 0
    listed = set()
    disclosed = 0
    for entry in entries:
        seq, pointer, commit = iv.obj_of(entry).get('seq'), iv.obj_of(entry).get('pointer'), iv.obj_of(entry).get('commitment')
        rec = by_seq.get(seq)
        if not isinstance(pointer, str) or rec is None or _marker(_at(iv.obj_of(rec.get('payload')), pointer)) != commit:
            bad('sealed.json', 'names a commitment its record does not hold at %s' % pointer, seq if isinstance(seq, int) else None)
            continue
        listed.add((seq, pointer))
        disclosure = entry.get('disclosure')
        if disclosure is None:
            continue
        salt = iv.obj_of(disclosure).get('salt')
        ok = isinstance(salt, str) and 'value' in disclosure
        if ok:
            try:
                ok = len(base64.urlsafe_b64decode(salt + '=' * (-len(salt) % 4))) >= 16 and \
                    commitment(salt, pointer, disclosure['value']) == commit
            except (ValueError, TypeError):
                ok = False
        if ok:
            disclosed += 1
        else:
            bad('sealed.json', 'the value disclosed at %s does not hash to its commitment' % pointer, seq)
    for seq, pointer, _ in held:
        if (seq, pointer) not in listed:
            bad('records.jsonl', 'commitment at %s is not listed in sealed.json' % pointer, seq)
    return disclosed
