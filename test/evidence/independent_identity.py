"""Proofs of identity in a Writ bundle, re-checked from docs/FORMAT.md ("Identity proofs") alone,
with the Python 3 standard library: Ed25519 signatures (requests and decisions signed with a key,
Writ channel assertions, EdDSA tokens) and RS256 tokens (RSASSA-PKCS1-v1_5 with SHA-256) from
identity providers. Tokens signed with any other algorithm (RS384/512, PS*, ES*) are not re-checked
here: each is reported as a warning, never passed as checked.
"""
import base64
import binascii
import hashlib
import json
import re

import independent_verifier as base

ACCEPTED = ('approval.granted', 'approval.rejected', 'operation.resolved')
DECIDED = ACCEPTED + ('approval.refused', 'operation.resolve_refused')
PRIVATE = ('d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth')
THUMBPRINT_MEMBERS = {'RSA': ('e', 'kty', 'n'), 'EC': ('crv', 'kty', 'x', 'y'), 'OKP': ('crv', 'kty', 'x')}
# DER of the DigestInfo for SHA-256 (RFC 8017 section 9.2, note 1).
SHA256_DIGEST_INFO = bytes.fromhex('3031300d060960864801650304020105000420')


class Fail(Exception):
    def __init__(self, problem, warn_only=False):
        super().__init__(problem)
        self.problem = problem
        self.warn_only = warn_only


def b64url(text):
    if not isinstance(text, str) or not re.match(r'^[A-Za-z0-9_-]*$', text):
        raise Fail('not base64url')
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def sha256_hex(text):
    return hashlib.sha256(text.encode('utf-8')).hexdigest()


def jws_parts(compact):
    parts = compact.split('.') if isinstance(compact, str) else []
    if len(parts) != 3:
        raise Fail('not a compact JWS')
    try:
        header, claims = json.loads(b64url(parts[0])), json.loads(b64url(parts[1]))
    except (ValueError, binascii.Error):
        raise Fail('the JWS header or claims are not JSON')
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Fail('the JWS header or claims are not JSON objects')
    return header, claims, ('%s.%s' % (parts[0], parts[1])).encode('ascii'), b64url(parts[2])


def rs256_verify(jwk, message, signature):
    n, e = int.from_bytes(b64url(jwk['n']), 'big'), int.from_bytes(b64url(jwk['e']), 'big')
    k = (n.bit_length() + 7) // 8
    if len(signature) != k:
        return False
    s = int.from_bytes(signature, 'big')
    if s >= n:
        return False
    em = pow(s, e, n).to_bytes(k, 'big')
    t = SHA256_DIGEST_INFO + hashlib.sha256(message).digest()
    return em == b'\x00\x01' + b'\xff' * (k - len(t) - 3) + b'\x00' + t


def thumbprint(jwk):
    members = THUMBPRINT_MEMBERS.get(jwk.get('kty'))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise Fail('not a JWK with the members RFC 7638 hashes')
    text = base.jcs({m: jwk[m] for m in members})
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode('utf-8')).digest()).rstrip(b'=').decode()


class Directory:
    """A recorded directory of people: keys, logins, verified emails, Slack users, providers, channels."""

    def __init__(self, content):
        self.people, self.logins, self.emails, self.slack = {}, {}, {}, {}
        for entry in (content.get('approvers') or []) + (content.get('requesters') or []):
            who = base.canonical_id(entry.get('id'))
            person = self.people.setdefault(who, {'id': who})
            if entry.get('publicKey') is not None and 'key' not in person:
                person['key'] = base.raw_public_key(entry['publicKey'])
            for login in entry.get('logins') or []:
                self.logins[(login.get('issuer'), login.get('subject'))] = person
            if isinstance(entry.get('email'), str):
                self.emails[entry['email'].strip().lower()] = person
            for user in entry.get('slack') or []:
                self.slack[(user.get('team'), user.get('user'))] = person
        self.providers = {p.get('issuer'): p.get('audiences') or [] for p in content.get('identityProviders') or []}
        self.channels = {}
        for channel in content.get('channels') or []:
            raw = base.raw_public_key(channel.get('publicKey', ''))
            self.channels[hashlib.sha256(raw).hexdigest()] = (channel.get('name'), raw)
        self.slack_teams = content.get('slackTeams') or []

    def by_login(self, claims):
        person = self.logins.get((claims.get('iss'), claims.get('sub')))
        if person is None and isinstance(claims.get('email'), str) and claims.get('email_verified') is True:
            person = self.emails.get(claims['email'].strip().lower())
        return person


def obj(value):
    return value if isinstance(value, dict) else {}


def seconds(iso):
    import datetime
    try:
        return int(datetime.datetime.fromisoformat(iso.replace('Z', '+00:00')).timestamp())
    except (AttributeError, ValueError):
        return 0


def same(evidence, established):
    differ = [name for name, value in established.items() if evidence.get(name) != value]
    if differ:
        raise Fail("the record's identity does not say what its proof establishes: %s" % ', '.join(differ))


class Context:
    def __init__(self, records, pinned_channels, bad):
        self.directories, self.keys, self.uses = {}, [], {}
        self.pinned = pinned_channels
        for seq, _, rec in records:
            payload = obj(rec.get('payload'))
            if rec.get('type') == 'governance.directory':
                self.directories[payload.get('version')] = payload.get('directory')
            elif rec.get('type') == 'governance.identity_key':
                self.read_key(seq, payload, bad)
            elif rec.get('type') == 'identity.proof_used':
                self.uses[payload.get('proofSha256')] = (payload.get('use'), payload.get('operationId'))
        self.read = {}

    def read_key(self, seq, payload, bad):
        jwk = payload.get('jwk')
        try:
            if not isinstance(jwk, dict) or not isinstance(payload.get('issuer'), str):
                raise Fail('not {issuer, thumbprint, jwk}')
            if any(m in jwk for m in PRIVATE):
                raise Fail('the key holds private members')
            if thumbprint(jwk) != payload.get('thumbprint'):
                raise Fail("the key's RFC 7638 thumbprint is not the recorded one")
        except Fail as f:
            bad('records.jsonl', 'governance.identity_key: %s' % f.problem, seq)
            return
        self.keys.append((seq, payload['issuer'], payload['thumbprint'], jwk))

    def directory(self, version):
        if version not in self.directories:
            raise Fail('the bundle holds no governance.directory record of %s' % version)
        if version not in self.read:
            try:
                self.read[version] = Directory(self.directories[version])
            except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as e:
                raise Fail('the directory %s cannot be read: %s' % (version, e))
        return self.read[version]


def check_token(token, directory, ctx, seq, at):
    """A provider's token against the keys on record before record `seq`; returns (claims, thumbprint)."""
    header, claims, signed, signature = jws_parts(token)
    alg = header.get('alg')
    if alg not in ('RS256', 'EdDSA'):
        raise Fail('a token signed with %s is not re-checked by this verifier' % alg, warn_only=True)
    issuer = claims.get('iss')
    if issuer not in directory.providers:
        raise Fail('the token\'s issuer %s is not a trusted identity provider' % json.dumps(issuer))
    keys = [k for k in ctx.keys if k[1] == issuer and k[0] < seq]
    kid = header.get('kid')
    keys = [k for k in keys if k[3].get('kid') == kid] if kid is not None else (keys if len(keys) == 1 else [])
    if not keys:
        raise Fail('no key of %s with the token\'s key id is on record before it' % issuer)
    jwk = keys[0][3]
    good = rs256_verify(jwk, signed, signature) if alg == 'RS256' else \
        jwk.get('crv') == 'Ed25519' and base.ed25519_verify(b64url(jwk.get('x', '')), signed, signature)
    if not good:
        raise Fail('the token\'s signature does not verify against %s\'s recorded key' % issuer)
    audiences = claims.get('aud') if isinstance(claims.get('aud'), list) else [claims.get('aud')]
    if not set(audiences) & set(directory.providers[issuer]):
        raise Fail('the token\'s audience is not one Writ accepts')
    if not isinstance(claims.get('sub'), str) or not isinstance(claims.get('exp'), (int, float)):
        raise Fail('the token lacks sub or exp')
    if claims['exp'] <= at - 60:
        raise Fail('the token had expired')
    if any(isinstance(claims.get(c), (int, float)) and claims[c] > at + 60 for c in ('nbf', 'iat')):
        raise Fail('the token was not valid yet')
    return claims, keys[0][2]


def check_key(claim, signature, directory):
    person = directory.people.get(claim['who'])
    if person is None or 'key' not in person:
        raise Fail('the recorded directory lists no key for %s' % claim['who'])
    if 'request' in claim:
        r = claim['request']
        digest = hashlib.sha256(base.jcs({'actor': r['actor'], 'intent': r['intent'], 'labels': r['labels'],
                                          'mode': r['mode'], 'paramsSha256': r['paramsSha256']}).encode('utf-8')).hexdigest()
        message = ('writ-request-v1\n%s\n%s\n' % (claim['operationId'], digest)).encode('utf-8')
    else:
        d = claim['decision']
        message = base.decision_message(d['kind'], claim['operationId'], d['digest'] or '', d['payload'])
    raw = base.b64(signature)
    if raw is None or not base.ed25519_verify(person['key'], message, raw):
        raise Fail('the signature does not verify against %s\'s key in the recorded directory' % claim['who'])
    same(claim['evidence'], {'keyId': hashlib.sha256(person['key']).hexdigest()})


def words_digest(d):
    if d['kind'] == 'resolve':
        p = d['payload']
        return hashlib.sha256(base.jcs({'action': str(p.get('action', '')), 'reason': str(p.get('reason', ''))}).encode('utf-8')).hexdigest()
    return sha256_hex(str(d['payload'].get('reason', '')))


def check_assertion(claim, assertion, directory, ctx):
    header, claims, signed, signature = jws_parts(assertion)
    if header.get('alg') != 'EdDSA' or header.get('typ') != 'writ-decision+jwt':
        raise Fail('the channel assertion is not an EdDSA writ-decision+jwt')
    channel = directory.channels.get(header.get('kid'))
    if channel is None:
        raise Fail('no channel of the recorded directory has the assertion\'s key')
    if ctx.pinned is not None and header.get('kid') not in ctx.pinned:
        raise Fail('the channel assertion is signed by a key that is not a pinned Writ channel key')
    if not base.ed25519_verify(channel[1], signed, signature):
        raise Fail('the channel assertion\'s signature does not verify against %s\'s key' % channel[0])
    at, d = claim['at'], claim['decision']
    iat, exp = claims.get('iat'), claims.get('exp')
    if claims.get('iss') != channel[0] or not isinstance(iat, int) or not isinstance(exp, int):
        raise Fail('the channel assertion lacks its issuer, iat or exp')
    if exp <= at - 30 or at - 30 > iat + 300 or iat > at + 30:
        raise Fail('the channel assertion was not fresh when the decision was recorded')
    if claims.get('op') != claim['operationId'] or claims.get('decision') != d['kind'] or claims.get('digest') != d['digest']:
        raise Fail('the channel assertion is for another operation, decision or digest')
    if claims.get('reason_sha256') != words_digest(d):
        raise Fail('the channel assertion was made for other words than the decision carries')
    named = directory.people.get(base.canonical_id(claims.get('sub')))
    evidence = claim['evidence']
    if named is None or named['id'] != claim['who'] or claims.get('channel') != evidence.get('channel'):
        raise Fail('the assertion names %s by %s, the record %s' % (claims.get('sub'), claims.get('channel'), claim['who']))
    same(evidence, {'channelName': channel[0], 'keyId': header.get('kid'), 'at': iat})
    if claims['channel'] == 'slack':
        slack = obj(claims.get('slack'))
        if slack.get('team') not in directory.slack_teams or directory.slack.get((slack.get('team'), slack.get('user'))) is not named:
            raise Fail('the Slack user is not %s in a pinned workspace of the recorded directory' % claim['who'])
        same(evidence, {'slack': {'team': slack.get('team'), 'user': slack.get('user')}})
        return
    if not isinstance(claims.get('id_token'), str) or evidence.get('token') != claims['id_token']:
        raise Fail('a single sign-on assertion without the login ID token the record carries')
    login, key = check_token(claims['id_token'], directory, ctx, claim['seq'], iat)
    person = directory.by_login(login)
    if person is None or person['id'] != claim['who']:
        raise Fail('the login ID token is not %s\'s in the recorded directory' % claim['who'])
    same(evidence, {'issuer': login['iss'], 'subject': login['sub'], 'providerKey': key, 'authTime': login.get('auth_time')})


def recheck(claim, ctx):
    evidence = claim['evidence']
    if evidence.get('id') != claim['who']:
        raise Fail('the identity recorded is %s\'s, the record names %s' % (json.dumps(evidence.get('id')), claim['who']))
    field = {'key': 'signature', 'token': 'token', 'sso': 'assertion', 'slack': 'assertion'}.get(evidence.get('channel'))
    material = evidence.get(field) if field else None
    if not isinstance(material, str):
        raise Fail('verified, but the record carries no proof to re-check')
    if evidence.get('proofSha256') != sha256_hex(material):
        raise Fail('the recorded proofSha256 is not the SHA-256 of the record\'s proof')
    directory = ctx.directory(claim['directoryVersion'])
    if evidence['channel'] == 'key':
        return check_key(claim, material, directory)
    if 'decision' in claim:
        return check_assertion(claim, material, directory, ctx)
    claims, key = check_token(material, directory, ctx, claim['seq'], claim['at'])
    person = directory.by_login(claims)
    if person is None or person['id'] != claim['who']:
        raise Fail('the token is not %s\'s in the recorded directory' % claim['who'])
    same(evidence, {'issuer': claims['iss'], 'subject': claims['sub'], 'providerKey': key})


def claim_of(seq, rec):
    """The identity claim of an operation.planned or decision record, or None."""
    payload = obj(rec.get('payload'))
    # A record without any identity is judged as unverified (it may predate identities, or be stripped).
    evidence = obj(payload.get('identity'))
    op = rec.get('operationId') if isinstance(rec.get('operationId'), str) else ''
    claim = {'seq': seq, 'at': seconds(rec.get('occurredAt')), 'operationId': op, 'evidence': evidence,
             'directoryVersion': payload.get('directoryVersion'), 'recorded': isinstance(payload.get('identity'), dict)}
    if rec.get('type') == 'operation.planned':
        envelope = obj(payload.get('envelope'))
        who = base.canonical_id(obj(envelope.get('actor')).get('id'))
        actor = payload['actorAsGiven'] if isinstance(payload.get('actorAsGiven'), str) else who
        claim.update(who=who, use='request', verified=evidence.get('verified') is True, accepted=True, request={
            'actor': actor, 'intent': envelope.get('intent'), 'labels': obj(envelope.get('labels')),
            'mode': envelope.get('mode'), 'paramsSha256': envelope.get('paramsHash')})
        return claim
    if rec.get('type') not in DECIDED:
        return None
    kind = 'resolve' if rec['type'].startswith('operation.resolve') else payload.get('kind')
    digest = payload.get('digest') if isinstance(payload.get('digest'), str) else None
    claim.update(who=base.canonical_id(payload.get('approver', payload.get('by'))), use=kind,
                 verified=payload.get('identityVerified') is True, accepted=rec['type'] in ACCEPTED,
                 decision={'kind': kind, 'digest': digest, 'payload': payload})
    return claim


def load_channel_keys(path):
    """`--channel-key <file>`: PEM blocks or base64 keys one per line, or a directory's JSON with channels."""
    text = open(path, encoding='utf-8').read().strip()
    if text.startswith('{'):
        keys = [c.get('publicKey', '') for c in json.loads(text)['channels']]
    else:
        keys = re.findall(r'-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----', text) or \
            [line.strip() for line in text.splitlines() if line.strip() and not line.startswith('#')]
    if not keys:
        raise ValueError('it holds no channel key')
    return set(hashlib.sha256(base.raw_public_key(k)).hexdigest() for k in keys)


def check_identities(records, pinned_channels, bad, notice, warn):
    """Returns (proofs re-checked, identities not verified)."""
    ctx = Context(records, pinned_channels, bad)
    policies = dict((obj(rec.get('payload')).get('revision'), obj(rec.get('payload')).get('policy'))
                    for _, _, rec in records if rec.get('type') == 'governance.policy')
    required = {'request': set(), 'decision': set()}
    for _, _, rec in records:
        if rec.get('type') != 'policy.decided':
            continue
        decision = obj(obj(rec.get('payload')).get('decision'))
        if decision.get('decisionIdentity') == 'verified':
            required['decision'].add(rec.get('operationId'))
        if obj(obj(policies.get(decision.get('policyRevision'))).get('identity')).get('requests') == 'verified':
            required['request'].add(rec.get('operationId'))
    verified = not_verified = 0
    for seq, _, rec in records:
        claim = claim_of(seq, rec)
        if claim is None:
            continue
        name = '%s of %s' % (claim['use'], claim['operationId'])
        if claim['verified']:
            try:
                recheck(claim, ctx)
                channel = claim['evidence'].get('channel')
                if claim['use'] == 'request' or channel != 'key':
                    used = ctx.uses.get(claim['evidence'].get('proofSha256'))
                    if used is None:
                        raise Fail('no identity.proof_used record holds its proof')
                    if used != (claim['use'], claim['operationId']):
                        raise Fail('its proof was put to %s of %s' % used)
                verified += 1
            except Fail as f:
                if f.warn_only:
                    warn('record %d (%s): %s' % (seq, name, f.problem))
                else:
                    bad('records.jsonl', '%s: %s' % (name, f.problem), seq)
        elif claim['accepted']:
            not_verified += 1 if claim['recorded'] else 0
            role = 'requester %s' % claim['who'] if claim['use'] == 'request' else '%s by %s' % (claim['use'], claim['who'])
            which = 'request' if claim['use'] == 'request' else 'decision'
            if claim['operationId'] in required[which]:
                bad('records.jsonl', '%s: went on with an identity %s, though policy requires verified %ss'
                    % (role, 'not verified' if claim['recorded'] else 'not on the record', which), seq)
            if claim['recorded']:
                notice('seq %d: identity not verified: %s was asserted, not proved' % (seq, role))
    return verified, not_verified
