"""An exact decision procedure for "can a caller outside the own accounts assume this role without MFA?", as an SMT
encoding (z3) of IAM's documented rules. A test oracle, written from the IAM User Guide and independent of the pack:
it shares no code with policypack/ and enumerates nothing; the solver searches every request at once.

The request is a set of z3 variables: who calls (an IAM user, a role session or a federated user; the root user cannot
assume roles), from which 12-digit account, under which name and session name; each condition key the document
tests, present or absent, with a string value; and the MFA state, one of the two requests without MFA (long-term
keys: aws:MultiFactorAuthPresent and aws:MultiFactorAuthAge absent; temporary credentials without MFA: present
"false", age absent). IAM derives aws:PrincipalAccount, aws:PrincipalArn (the role's ARN for a role session),
aws:PrincipalType, aws:username (IAM users only) and aws:userid (an IAM user's unique ID, "AIDA..."; a role session's
"<role's unique ID, AROA...>:<session name>"; a federated user's "<account>:<name>") from the caller ("AWS global
condition context keys", "IAM identifiers").

Evaluation ("Policy evaluation logic"): the request is allowed when some Allow statement applies and no Deny does; a
statement applies when its principal, action and every condition clause match. A request carrying a source identity
(sts:SourceIdentity or aws:SourceIdentity present) also needs sts:SetSourceIdentity allowed, one passing session tags
(an aws:RequestTag/ key or aws:TagKeys present) sts:TagSession. Condition operators ("IAM JSON policy elements:
Condition operators"): values ORed, negated operators NORed; an absent key fails every operator except negated ones,
...IfExists and Null; ForAllValues passes and ForAnyValue fails on an absent key, ForAllValues:Null passes and
ForAnyValue:Null fails on an absent key (with the key present both are Null). ARN operators (ArnEquals matches as
ArnLike) compare the six colon-separated components one by one, "*" and "?" not crossing a colon except in the last.
Policy variables resolve only in Version 2012-10-17; one whose key is absent leaves its value to the adversary (IAM
"might" void the statement), as does every other choice the caller makes: the query is existential.

Supported fragment (what the differential test generates): path-less user and role names, partition aws, operators
StringEquals/StringNotEquals/StringLike/StringNotLike, the Arn operators, Bool, Null, Numeric operators on keys that are
always absent here (aws:MultiFactorAuthAge), with IfExists and the set qualifiers; Principal (not NotPrincipal);
aws:userid values that name no session or federated user by name (the names are not tied to aws:userid).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import z3

MFA_PRESENT = "aws:multifactorauthpresent"
MFA_AGE = "aws:multifactorauthage"
PRINCIPAL_ACCOUNT = "aws:principalaccount"
PRINCIPAL_ARN = "aws:principalarn"
PRINCIPAL_TYPE = "aws:principaltype"
USERNAME = "aws:username"
USERID = "aws:userid"
SOURCE_IDENTITY_KEYS = ("sts:sourceidentity", "aws:sourceidentity")
TAG_KEYS = ("aws:tagkeys",)
TAG_PREFIX = "aws:requesttag/"
NEGATED = {"stringnotequals", "stringnotlike", "arnnotequals", "arnnotlike", "numericnotequals"}
USER, SESSION, FEDERATED = 0, 1, 2
PRINCIPAL_TYPES = {USER: "User", SESSION: "AssumedRole", FEDERATED: "FederatedUser"}
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_NAME_CHARACTERS = z3.Union(z3.Range("a", "z"), z3.Range("A", "Z"), z3.Range("0", "9"), z3.Re("-"), z3.Re("_"))


@dataclass(frozen=True)
class _CallerArn:
    """aws:PrincipalArn, matched component by component per caller kind instead of as one string term (the same
    semantics, far easier for the solver)."""

    request: _Request


# Per caller kind: the ARN's service and the resource's prefix before the name.
_ARN_SHAPES = {USER: ("iam", "user/"), SESSION: ("iam", "role/"), FEDERATED: ("sts", "federated-user/")}


@dataclass
class _Request:
    """The z3 variables of one request and the derived caller keys."""

    kind: z3.ArithRef
    account: z3.SeqRef
    name: z3.SeqRef
    session: z3.SeqRef
    present: dict[str, z3.BoolRef] = field(default_factory=dict)
    value: dict[str, z3.SeqRef] = field(default_factory=dict)


def can_assume_without_mfa(document: dict[str, Any], own_accounts: frozenset[str]) -> bool:
    """Whether some caller outside own_accounts is allowed sts:AssumeRole in a request without MFA."""
    statements = document["Statement"]
    statements = statements if isinstance(statements, list) else [statements]
    resolves = document.get("Version") == "2012-10-17"
    solver = z3.Solver()
    request = _request(solver, statements, own_accounts)
    fresh = iter(range(1_000_000))

    # Whether each statement's principal and conditions match the request (the same for every action).
    matches = [
        z3.And(_principal_matches(statement["Principal"], request), _conditions(statement, request, resolves, fresh))
        for statement in statements
    ]

    def applies(position: int, action: str) -> z3.BoolRef:
        return matches[position] if _action_covers(statements[position], action) else z3.BoolVal(False)

    def allowed(action: str) -> z3.BoolRef:
        allows = [applies(i, action) for i, statement in enumerate(statements) if statement["Effect"] == "Allow"]
        denies = [applies(i, action) for i, statement in enumerate(statements) if statement["Effect"] == "Deny"]
        return z3.And(z3.Or(allows) if allows else z3.BoolVal(False), z3.Not(z3.Or(denies)) if denies else True)

    solver.add(allowed("sts:AssumeRole"))
    carries_source_identity = z3.Or(
        [request.present[key] for key in SOURCE_IDENTITY_KEYS if key in request.present] or [False]
    )
    solver.add(z3.Implies(carries_source_identity, allowed("sts:SetSourceIdentity")))
    tag_keys = [key for key in request.present if key in TAG_KEYS or key.startswith(TAG_PREFIX)]
    solver.add(z3.Implies(z3.Or([request.present[key] for key in tag_keys] or [False]), allowed("sts:TagSession")))
    solver.set("timeout", 20_000)
    result = solver.check()
    if result == z3.unknown:
        raise AssertionError(f"the solver gave up on {document}")
    return result == z3.sat


def _request(solver: z3.Solver, statements: list[dict[str, Any]], own_accounts: frozenset[str]) -> _Request:
    kind = z3.Int("kind")
    account = z3.String("account")
    name = z3.String("name")
    session = z3.String("session")
    solver.add(z3.Or(kind == USER, kind == SESSION, kind == FEDERATED))
    # An account ID is 12 digits; the fragment compares it only with whole literals and "*", so its length and
    # "not one of ours" are all that matter (digit classes cost the solver dearly for nothing here).
    solver.add(z3.InRe(account, z3.Loop(z3.Range("0", "9"), 12, 12)))
    solver.add([account != z3.StringVal(own) for own in own_accounts])
    for text in (name, session):
        solver.add(z3.InRe(text, z3.Plus(_NAME_CHARACTERS)))
    # A role session's name is 2 to 64 characters (AWS STS API Reference, AssumeRole RoleSessionName).
    solver.add(z3.Length(session) >= 2, z3.Length(session) <= 64)
    request = _Request(kind, account, name, session)
    arn = _CallerArn(request)
    principal_type = z3.If(
        kind == USER,
        z3.StringVal(PRINCIPAL_TYPES[USER]),
        z3.If(kind == SESSION, z3.StringVal(PRINCIPAL_TYPES[SESSION]), z3.StringVal(PRINCIPAL_TYPES[FEDERATED])),
    )
    # aws:userid: an IAM user's unique ID ("AIDA" and letters and digits), "<role's unique ID>:<session name>" for a
    # role session (role IDs start "AROA"), "<account>:<name>" for a federated user ("AWS global condition context
    # keys", "IAM identifiers"). Stated as regular-expression membership, the federated user's account tied in as the
    # first twelve characters; the session and federated names are not tied in (the fragment's aws:userid values
    # never name one), which keeps the solver fast.
    user_id = z3.String("userid")
    if USERID in _keys_tested(statements):
        alphanumeric = z3.Plus(z3.Union(z3.Range("A", "Z"), z3.Range("a", "z"), z3.Range("0", "9")))
        names = z3.Plus(_NAME_CHARACTERS)
        federated_id = z3.Concat(z3.Loop(z3.Range("0", "9"), 12, 12), z3.Re(":"), names)
        solver.add(
            z3.Implies(kind == USER, z3.InRe(user_id, z3.Concat(z3.Re("AIDA"), alphanumeric))),
            z3.Implies(kind == SESSION, z3.InRe(user_id, z3.Concat(z3.Re("AROA"), alphanumeric, z3.Re(":"), names))),
            z3.Implies(
                kind == FEDERATED, z3.And(z3.InRe(user_id, federated_id), z3.SubString(user_id, 0, 12) == account)
            ),
        )
    derived = {
        USERID: (z3.BoolVal(True), user_id),
        PRINCIPAL_ACCOUNT: (z3.BoolVal(True), account),
        PRINCIPAL_ARN: (z3.BoolVal(True), arn),
        PRINCIPAL_TYPE: (z3.BoolVal(True), principal_type),
        USERNAME: (kind == USER, name),
    }
    for key, (present, value) in derived.items():
        request.present[key], request.value[key] = present, value
    no_mfa_long_term = z3.Bool("long_term_keys")
    request.present[MFA_PRESENT] = z3.Not(no_mfa_long_term)
    request.value[MFA_PRESENT] = z3.StringVal("false")
    request.present[MFA_AGE] = z3.BoolVal(False)
    request.value[MFA_AGE] = z3.StringVal("")
    for key in sorted(_keys_tested(statements)):
        if key not in request.present:
            request.present[key] = z3.Bool(f"present:{key}")
            request.value[key] = z3.String(f"value:{key}")
    return request


def _keys_tested(statements: list[dict[str, Any]]) -> set[str]:
    keys = set(SOURCE_IDENTITY_KEYS) | set(TAG_KEYS)
    for statement in statements:
        for block in statement.get("Condition", {}).values():
            for key, values in block.items():
                keys.add(key.lower())
                for value in values if isinstance(values, list) else [values]:
                    keys.update(match.lower() for match in _VARIABLE.findall(str(value)))
    return keys


def _action_covers(statement: dict[str, Any], action: str) -> bool:
    if "Action" in statement:
        patterns, negated = statement["Action"], False
    else:
        patterns, negated = statement["NotAction"], True
    patterns = patterns if isinstance(patterns, list) else [patterns]
    matched = any(re.fullmatch(_glob_to_python(pattern.lower()), action.lower()) for pattern in patterns)
    return matched != negated


def _glob_to_python(pattern: str, colons: bool = True) -> str:
    anything = "." if colons else "[^:]"
    return "".join(f"{anything}*" if c == "*" else anything if c == "?" else re.escape(c) for c in pattern)


def _principal_matches(principal: object, request: _Request) -> z3.BoolRef:
    if principal == "*":
        return z3.BoolVal(True)
    names = principal.get("AWS", []) if isinstance(principal, dict) else []
    names = names if isinstance(names, list) else [names]
    return z3.Or([_one_principal(name, request) for name in names] or [False])


def _one_principal(text: str, request: _Request) -> z3.BoolRef:
    """IAM User Guide, "AWS JSON policy elements: Principal": an account admits its identities, a role ARN its
    sessions, an assumed-role ARN that one session, a user or federated-user ARN that identity."""
    if text == "*":
        return z3.BoolVal(True)
    if re.fullmatch(r"[0-9]{12}", text):
        return request.account == z3.StringVal(text)
    _, _, service, _, account, resource = text.split(":", 5)
    same_account = request.account == z3.StringVal(account)
    if resource == "root":
        return same_account
    kind, _, rest = resource.partition("/")
    if service == "iam" and kind == "user":
        return z3.And(same_account, request.kind == USER, request.name == z3.StringVal(rest))
    if service == "iam" and kind == "role":
        return z3.And(same_account, request.kind == SESSION, request.name == z3.StringVal(rest))
    if kind == "assumed-role":
        role, _, session = rest.partition("/")
        return z3.And(
            same_account,
            request.kind == SESSION,
            request.name == z3.StringVal(role),
            request.session == z3.StringVal(session),
        )
    return z3.And(same_account, request.kind == FEDERATED, request.name == z3.StringVal(rest))


def _conditions(statement: dict[str, Any], request: _Request, resolves: bool, fresh: Any) -> z3.BoolRef:
    clauses = []
    for operator, block in statement.get("Condition", {}).items():
        for key, values in block.items():
            values = values if isinstance(values, list) else [values]
            texts = ["true" if v is True else "false" if v is False else str(v) for v in values]
            clauses.append(_clause(operator, key.lower(), texts, request, resolves, fresh))
    return z3.And(clauses) if clauses else z3.BoolVal(True)


def _clause(operator: str, key: str, values: list[str], request: _Request, resolves: bool, fresh: Any) -> z3.BoolRef:
    lowered = operator.lower()
    qualifier = None
    for prefix in ("forallvalues:", "foranyvalue:"):
        if lowered.startswith(prefix):
            qualifier, lowered = prefix[:-1], lowered[len(prefix) :]
    if_exists = lowered.endswith("ifexists")
    base = lowered.removesuffix("ifexists")
    present, actual = request.present[key], request.value[key]
    if base == "null":
        # Null "true": the key is absent; "false": present. Values ORed.
        null = z3.Or([z3.Not(present) if value.lower() == "true" else present for value in values])
        if qualifier == "forallvalues":
            return z3.Or(z3.Not(present), null)
        if qualifier == "foranyvalue":
            return z3.And(present, null)
        return null
    when_absent = if_exists or qualifier == "forallvalues" or (base in NEGATED and qualifier != "foranyvalue")
    if base.startswith("numeric"):
        # Only keys that are always absent in this fragment reach here.
        return z3.Or(
            z3.And(z3.Not(present), z3.BoolVal(when_absent)), z3.And(present, z3.Bool(f"numeric:{next(fresh)}"))
        )
    matches = z3.Or([_value_matches(base, actual, value, request, resolves, fresh) for value in values] or [False])
    holds = z3.Not(matches) if base in NEGATED else matches
    return z3.If(present, holds, z3.BoolVal(when_absent))


def _value_matches(
    base: str, actual: z3.SeqRef | _CallerArn, value: str, request: _Request, resolves: bool, fresh: Any
) -> z3.BoolRef:
    """One policy value against the request value, ignoring negation; variables substituted (2012-10-17)."""
    if isinstance(actual, _CallerArn):
        if base not in ("arnlike", "arnnotlike", "arnequals", "arnnotequals") or "${" in value:
            raise ValueError("aws:PrincipalArn is compared only with ARN operators and literal patterns here")
        return _caller_arn_matches(actual, value)
    pieces: list[tuple[str, z3.SeqRef | str]] = []
    position = 0
    for match in _VARIABLE.finditer(value) if resolves else ():
        pieces.append(("text", value[position : match.start()]))
        body = match.group(1)
        if body in ("*", "?", "$"):
            pieces.append(("escaped", body))
        else:
            variable_key = body.lower()
            present = request.present.get(variable_key, z3.BoolVal(False))
            substituted = request.value.get(variable_key, z3.StringVal(""))
            # An unresolvable variable: the caller's best case (IAM may void the statement or not).
            pieces.append(("value", z3.If(present, substituted, z3.String(f"unresolved:{next(fresh)}"))))
        position = match.end()
    pieces.append(("text", value[position:]))
    if base in ("stringequals", "stringnotequals", "bool"):
        parts = [z3.StringVal(piece) if kind != "value" else piece for kind, piece in pieces]
        target = z3.Concat(*parts) if len(parts) > 1 else parts[0]
        return actual == target
    if base in ("stringlike", "stringnotlike"):
        return z3.InRe(actual, _glob_regex(pieces, crossing_colons=True))
    if base in ("arnlike", "arnnotlike", "arnequals", "arnnotequals"):
        return _arn_matches(actual, pieces)
    raise ValueError(f"operator {base} is outside the oracle's fragment")


def _caller_arn_matches(arn: _CallerArn, pattern: str) -> z3.BoolRef:
    """An ARN pattern's six components against the caller's ARN, arn:aws:<service>::<account>:<prefix><name>."""
    components = pattern.split(":", 5)
    if len(components) != 6:
        return z3.BoolVal(False)
    request = arn.request
    by_kind = []
    for kind, (service, prefix) in _ARN_SHAPES.items():
        fixed = ("arn", "aws", service, "")
        if not all(
            re.fullmatch(_glob_to_python(p, colons=False), c) for p, c in zip(components[:4], fixed, strict=True)
        ):
            continue
        account_match = z3.InRe(request.account, _glob_regex([("text", components[4])], crossing_colons=False))
        resource = z3.Concat(z3.StringVal(prefix), request.name)
        resource_match = z3.InRe(resource, _glob_regex([("text", components[5])], crossing_colons=True))
        by_kind.append(z3.And(request.kind == kind, account_match, resource_match))
    return z3.Or(by_kind) if by_kind else z3.BoolVal(False)


def _glob_regex(pieces: list[tuple[str, Any]], crossing_colons: bool) -> z3.ReRef:
    any_character = (
        z3.AllChar(z3.ReSort(z3.StringSort()))
        if crossing_colons
        else z3.Diff(z3.AllChar(z3.ReSort(z3.StringSort())), z3.Re(":"))
    )
    parts: list[z3.ReRef] = []
    for kind, piece in pieces:
        if kind == "value":
            raise ValueError("a variable inside a ...Like pattern is outside the oracle's fragment")
        if kind == "escaped":
            parts.append(z3.Re(piece))
            continue
        for character in piece:
            parts.append(
                z3.Star(any_character) if character == "*" else any_character if character == "?" else z3.Re(character)
            )
    if not parts:
        return z3.Re("")
    return z3.Concat(*parts) if len(parts) > 1 else parts[0]


def _arn_matches(actual: z3.SeqRef, pieces: list[tuple[str, Any]]) -> z3.BoolRef:
    if any(kind != "text" for kind, _ in pieces):
        raise ValueError("variables in ARN patterns are outside the oracle's fragment")
    pattern = "".join(piece for _, piece in pieces)
    components = pattern.split(":", 5)
    if len(components) != 6:
        return z3.BoolVal(False)
    regexes = [
        _glob_regex([("text", component)], crossing_colons=index == 5) for index, component in enumerate(components)
    ]
    joined: list[z3.ReRef] = []
    for index, regex in enumerate(regexes):
        if index:
            joined.append(z3.Re(":"))
        joined.append(regex)
    return z3.InRe(actual, z3.Concat(*joined))
