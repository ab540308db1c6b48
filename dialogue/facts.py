"""The facts a message states about someone's qualifications (`facts_from_message`), with
their timing (dialogue.timing), and the changes new facts make to a profile
(`apply_facts`). Pure Python, no Rasa import.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from careers.rules_file import EntryRules
from careers.vocabulary import (
    A_LEVEL_ALTERNATIVE,
    A_LEVEL_ALTERNATIVES,
    A_LEVEL_COUNT,
    A_LEVEL_GRADES,
    A_LEVEL_STATUS,
    A_LEVEL_SUBJECTS,
    ABANDONED,
    DEGREE_CLASS,
    DEGREE_OVERSEAS,
    DEGREE_STATUS,
    DEGREE_SUBJECT,
    DEGREE_TYPE,
    EQUIVALENT,
    FIRST,
    GCSE_ALTERNATIVE,
    GCSE_GRADES,
    GCSE_STATUS,
    HELD,
    HIGHER_DEGREE,
    HIGHER_DEGREE_ENDS,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_SUBJECT,
    IN_PROGRESS,
    MEDICAL,
    NON_HONOURS,
    NONE_HELD,
    NOT_HIGHER_DEGREE,
    NOT_MET,
    PLANNED,
    PREDICTED,
    PROGRAMME,
    PTP,
    STP,
    UNDERGRADUATE_HONOURS,
    UNKNOWN_SUBJECT,
    UNSURE,
)
from dialogue import timing
from dialogue.denials import (
    _ASKED_ABOUT,
    _CORRECTION,
    _DENIED_AFTER,
    _NO_A_LEVELS,
    _NO_DEGREE,
    _NO_HIGHER,
    _ONLY_AS_LEVEL,
    _REQUIREMENT_BEFORE,
    _RESULTS_AFTER,
    _SAME_DEGREE_BEFORE,
    _WANTED_COURSE,
    NEEDED_BEFORE,
    NOT_YET,
    REFERRED_BEFORE,
    SUPPOSED_BEFORE,
    _negated,
    _replaced,
)
from dialogue.grades import (
    _A_LEVEL_GRADE_LIST,
    _GRADE_AFTER_SUBJECT,
    _GRADE_LIST_CONTEXT,
    best_first,
    canonical_degree_class,
    canonical_qualification,
    grades_of_subjects,
    judge_gcses,
    parse_count,
)
from dialogue.mentions import (
    A_LEVEL_ROLE,
    ALTERNATIVE_ROLE,
    DEGREE_ROLE,
    FURTHER_ROLE,
    GCSE_ROLE,
    _Anchor,
    _clause_before,
    _Mention,
    _mentions,
)
from dialogue.subjects import (
    _ALL_SCHOOL,
    _LIST_JOIN,
    _OCCUPATION,
    _SUBJECT_OF_DEGREE_NAME,
    _all_named,
    _relevance_rank,
    _replaced_role,
    _role_for,
    with_named_subjects,
)
from dialogue.timing import Span

# Which qualification is worth more when someone names two of the same kind.
_HIGHER_RANK = ("phd", "mphil", "mres", "msc", "ma", "pgdip", "pgcert")


def facts_from_message(
    rules: EntryRules,
    text: str,
    entities: Iterable[Mapping[str, Any]],
    asked: Optional[str] = None,
    programme: Optional[str] = None,
    profile: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """The profile facts a message states about the person's qualifications, keyed by slot.

    A subject, count or grade belongs to the qualification it is attached to ("2:2 in
    history and an MSc in medical physics", "physics A-level"); with none, to the fact
    just asked for (`asked`); otherwise it is not taken as a fact ("the engineering side of
    hospitals").
    Qualifications that are denied ("no master's") or replaced ("a PGDip instead of the
    MSc") do not count.
    """
    text = text or ""
    mentions = with_named_subjects(rules, text, _with_american_masters(text, _mentions(entities)))
    facts: Dict[str, Any] = {}
    implied_subject: Optional[str] = None
    anchors: List[_Anchor] = []
    higher_seen: List[str] = []
    corrected_higher: List[str] = []
    higher_denied = False
    classes: List[Tuple[_Mention, str]] = []
    singular: List[_Mention] = []
    gcses_denied = False
    corrected_from = _correction_point(text)

    programmes = {
        str(m.value).upper()
        for m in mentions
        if m.kind == PROGRAMME and str(m.value).upper() in (STP, PTP) and not _negated(text, m)
    }
    if len(programmes) == 1:
        facts[PROGRAMME] = programmes.pop()

    for m in mentions:
        if (
            m.kind == "grade"
            and text[m.start : m.end] in ("BS", "B.S.", "B.S")
            and _SUBJECT_NEXT.match(text[m.end :])
        ):
            # "BS in biomedical engineering": an American bachelor's, not B grades.
            anchors.append(_Anchor(m.start, m.end, DEGREE_ROLE))
            facts[DEGREE_TYPE] = "bachelors"
        elif m.kind == DEGREE_CLASS:
            class_id = canonical_degree_class(m.value)
            if NEEDED_BEFORE.search(_clause_before(text, m.start, 40)):
                continue  # "do I need a first?": asked about, not had
            if (
                SUPPOSED_BEFORE.search(text[max(0, m.start - 60) : m.start])
                or REFERRED_BEFORE.search(text[max(0, m.start - 20) : m.start])
            ) and any(
                o.kind == DEGREE_CLASS
                and o is not m
                and not SUPPOSED_BEFORE.search(text[max(0, o.start - 60) : o.start])
                and not REFERRED_BEFORE.search(text[max(0, o.start - 20) : o.start])
                and not NEEDED_BEFORE.search(_clause_before(text, o.start, 40))
                for o in mentions
            ):
                # "predicted a 2:1 ... what if I end up with a 2:2?": supposed beside the class
                # had. (Alone, "and if I had a 2:1?" after a verdict asks the check to redo it.)
                continue
            if re.search(
                r"\b(missed|missing|short of|just under)( out on)?( an?| the)?\s*$", text[: m.start], re.I
            ):
                continue  # "missed a 2:1 by one mark"
            # "First Division" is an Indian or Pakistani grade, not a UK first.
            # So is an Indian "First Class with Distinction".
            overseas_grade = (
                re.match(r"\s*(class\s+)?(division|with distinction)\b", text[m.end :], re.I)
                and class_id == FIRST
            )
            if class_id and not _negated(text, m) and not overseas_grade:
                classes.append((m, class_id))
        elif m.kind == "qualification":
            qual = canonical_qualification(m.value, rules.qualifications)
            if qual == "ma" and re.match(r"\s*\(?\s*hons\b", text[m.end :], re.I):
                qual = "bachelors"  # "an MA Hons": a Scottish first degree, not a higher one
            group = rules.qualification_group(qual or "")
            if _replaced(text, m):
                if qual == "a_level":
                    facts[A_LEVEL_COUNT] = 0  # "a T-level instead of A-levels"
                continue
            if _ASKED_ABOUT.search(_clause_before(text, m.start, 40)) or _ASKED_ALTERNATIVE.search(
                _sentence_before(text, m.start)
            ):
                continue  # "do I need a masters?", "should I do a masters or a PhD?"
            if group == HIGHER_DEGREE and _SAME_DEGREE_BEFORE.search(text[max(0, m.start - 20) : m.start]):
                continue
            if group == HIGHER_DEGREE and _integrated_called_masters(text, m, mentions, rules):
                continue  # "The M in MEng means it's a masters, right?"
            if group == HIGHER_DEGREE and _NEVER_TURNED_INTO.search(text[max(0, m.start - 80) : m.start]):
                continue  # "a PGDip - never did the dissertation to turn it into the MSc"
            # "haven't got my A-level results yet" is no denial; "Masters? Haven't done one" is.
            negated = (
                (_negated(text, m) and not _RESULTS_AFTER.match(text[m.end :]))
                or bool(_DENIED_AFTER.match(text[m.end :]))
                or bool(_CANNOT_AFFORD.search(text[: m.start]))  # "cant afford a masters"
            )
            if group in (UNDERGRADUATE_HONOURS, NON_HONOURS, MEDICAL):
                if negated or _WANTED_COURSE.search(_clause_before(text, m.start, 60)):
                    continue  # "no degree"; "get onto the clinical engineering BSc"
                anchors.append(_Anchor(m.start, m.end, DEGREE_ROLE))
                honours_named = (
                    rules.qualification_group(facts.get(DEGREE_TYPE) or "") == UNDERGRADUATE_HONOURS
                )
                topped_up = re.search(r"\btop(ped|ping|s)?[- ]?up\b", text, re.I)
                if not (qual in _NOT_A_DEGREE and honours_named and topped_up):
                    # (an HND topped up to a BEng is a BEng, in whichever order they are told)
                    facts[DEGREE_TYPE] = qual
                if group == MEDICAL:
                    facts[DEGREE_SUBJECT] = "medicine"
                named = _SUBJECT_OF_DEGREE_NAME.get(text[m.start : m.end].lower().replace(".", ""))
                if re.match(r"\s*\(?(eng|engg)\b", text[m.end :], re.I):
                    named = "engineering"  # "BSc Eng"
                if named:
                    implied_subject = implied_subject or named  # unless a subject is named
            elif group in (HIGHER_DEGREE, NOT_HIGHER_DEGREE):
                if negated:
                    higher_denied = True
                    continue
                # Only a known qualification id has a group.
                assert qual is not None
                if corrected_from is not None and m.start >= corrected_from:
                    # "a masters - well, strictly a PGCert": what they have is the one corrected to
                    higher_seen = [q for q in higher_seen if q in corrected_higher] + [qual]
                    corrected_higher.append(qual)
                else:
                    higher_seen.append(qual)
                anchors.append(_Anchor(m.start, m.end, HIGHER_DEGREE))
            elif qual in ("a_level", "gcse"):
                anchors.append(_Anchor(m.start, m.end, A_LEVEL_ROLE if qual == "a_level" else GCSE_ROLE))
                if qual == "gcse" and negated:
                    gcses_denied = True  # "we don't do GCSEs here": see the school-leaving qualifications
                if qual == "a_level" and negated:
                    facts[A_LEVEL_COUNT] = 0
                elif qual == "a_level" and re.fullmatch(r"a[- ]?level", text[m.start : m.end], re.I):
                    singular.append(m)  # "plus A-level Maths": one A-level
            elif group == A_LEVEL_ALTERNATIVE and not negated:
                # Advanced Highers taken after Highers held do not make the Highers pending.
                after_highers = qual == "advanced_highers" and any(
                    o.kind == "qualification"
                    and canonical_qualification(o.value, rules.qualifications) == "scottish_highers"
                    for o in mentions
                )
                anchors.append(_Anchor(m.start, m.end, FURTHER_ROLE if after_highers else ALTERNATIVE_ROLE))
                facts.setdefault(A_LEVEL_ALTERNATIVES, [])
                if qual not in facts[A_LEVEL_ALTERNATIVES]:
                    facts[A_LEVEL_ALTERNATIVES].append(qual)
            elif group == GCSE_ALTERNATIVE and not negated:
                anchors.append(_Anchor(m.start, m.end, GCSE_ROLE))
                facts[GCSE_GRADES] = EQUIVALENT

    # "doing my A-levels in physics", "a GCSE student": the stage names the qualification.
    # With no A-levels or alternative named, year 12 or 13 with subjects graded one by one
    # means A-levels ("left yr 13 this summer w physics B, chem C").
    school_named = any(a.role in (A_LEVEL_ROLE, ALTERNATIVE_ROLE, FURTHER_ROLE) for a in anchors)
    graded_subjects = sum(
        1 for m in mentions if m.kind == "subject" and _GRADE_AFTER_SUBJECT.match(text[m.end :])
    )
    for m in mentions:
        if m.kind != "stage" or _negated(text, m):
            continue
        school_word = _SCHOOL_STAGE_NAMES.search(text[m.start : m.end])
        if school_word:
            kind = GCSE_ROLE if school_word.group(0).lower().startswith("gcse") else A_LEVEL_ROLE
            anchors.append(_Anchor(m.start + school_word.start(), m.start + school_word.end(), kind))
        elif not school_named and graded_subjects >= 2 and _A_LEVEL_YEARS.fullmatch(text[m.start : m.end]):
            anchors.append(_Anchor(m.start, m.end, A_LEVEL_ROLE))

    # "I graduated in physics", "a physics graduate": the degree is the anchor.
    for m in mentions:
        if m.kind != "stage" or m.value not in ("graduate", "university"):
            continue
        # ("I won't graduate till 2028" is still studying: not denied)
        if re.search(r"\bwon'?t( be)?\s*$", text[: m.start], re.I) or not _negated(text, m):
            anchors.append(_Anchor(m.start, m.end, DEGREE_ROLE))

    # A class belongs to the first degree unless it is the result of a higher one
    # ("a first in my MSc"); after "actually", the corrected one counts.
    for m, class_id in classes:
        if _class_of_higher_degree(text, m, anchors):
            continue
        if (
            corrected_from is not None
            and m.start < corrected_from
            and any(c.start >= corrected_from for c, _ in classes)
        ):
            anchors.append(_Anchor(m.start, m.end, DEGREE_ROLE))  # the class is corrected, not the degree
            continue
        facts[DEGREE_CLASS] = class_id
        anchors.append(_Anchor(m.start, m.end, DEGREE_ROLE))
    if higher_seen:
        facts[HIGHER_DEGREE] = min(higher_seen, key=_HIGHER_RANK.index)
    elif higher_denied or _NO_HIGHER.search(text):
        facts[HIGHER_DEGREE] = NONE_HELD
    no_degree = _NO_DEGREE.search(text)
    if (
        no_degree
        and DEGREE_CLASS not in facts
        and not NOT_YET.search(text[no_degree.end() : no_degree.end() + 40])
    ):
        facts[DEGREE_CLASS] = NONE_HELD
    if _NO_A_LEVELS.search(text) or _ONLY_AS_LEVEL.search(text):
        facts[A_LEVEL_COUNT] = 0
    grade_lists = [g for g in _A_LEVEL_GRADE_LIST.finditer(text) if best_first(g.group(0))]
    # "predicted BBB.. wait no, ABB": after a correction, the grades it gives.
    corrected_lists = [g for g in grade_lists if corrected_from is not None and g.start() >= corrected_from]
    grade_list = corrected_lists[-1] if corrected_lists else next(iter(grade_lists), None)
    school_roles = {a.role for a in anchors}
    if grade_list and (
        A_LEVEL_ROLE in school_roles
        # "Got 5 Highers, AAABB": the grades of the Highers, not of A-levels.
        or (_GRADE_LIST_CONTEXT.search(text) and not school_roles & {ALTERNATIVE_ROLE, FURTHER_ROLE})
    ):
        # "AAB in physics, maths and further maths", "predicted A*AB": A-level grades.
        which = 1 if grade_list.group(1) else 2
        facts[A_LEVEL_GRADES] = grade_list.group(which)
        anchors.append(_Anchor(grade_list.start(which), grade_list.end(which), A_LEVEL_ROLE))
    graded_abroad = False
    for grading in _OVERSEAS_GRADING.finditer(text):
        # "CGPA 3.45 in Electrical Engineering": a degree's grade, and its subject after it.
        anchors.append(_Anchor(grading.start(), grading.end(), DEGREE_ROLE))
        graded_abroad = True
    anchors.sort(key=lambda a: a.start)

    a_level_subjects: List[str] = []
    subject_spans: List[Span] = []
    previous_degree_mention: Optional[_Mention] = None
    a_level_mentions: List[_Mention] = []
    previous: Optional[Tuple[_Mention, Optional[str]]] = None
    denied = {
        str(m.value).strip().lower()
        for m in mentions
        if m.kind == "subject" and (_negated(text, m) or _replaced(text, m))
    }
    asked_subjects: List[str] = []
    for m in mentions:
        if m.kind == "subject":
            subject = str(m.value).strip().lower()
            if subject in denied:
                continue  # "chemistry, not physics"
            role = _role_for(text, m, anchors, asked, programme or facts.get(PROGRAMME))
            if role is None:
                role = _replaced_role(text, denied, profile or {})
            if (
                role is None
                and _ASKED_OWN_SUBJECT.search(text[: m.start])
                and _AS_GOOD_AS.match(text[m.end :])
            ):
                asked_subjects.append(subject)
            joined = bool(previous and _LIST_JOIN.fullmatch(text[previous[0].end : m.start]))
            named_after = _list_named_after(text, m, mentions, anchors)
            if named_after:
                role = named_after  # "maths, further maths and physics A-levels"
            elif previous and previous[1] and joined:
                role = previous[1]  # "physics, maths and further maths": one list, one qualification
            joint = joined or bool(
                previous and re.fullmatch(r"\s*with\s*", text[previous[0].end : m.start], re.I)
            )
            previous_mention = previous[0] if previous else None
            previous = (m, role)
            if role in (DEGREE_ROLE, HIGHER_DEGREE, A_LEVEL_ROLE):
                subject_spans.append(Span(m.start, m.end, role, subject))  # "doing mech eng": timed too
            if role == DEGREE_ROLE:
                # Joint honours ("maths and physics", "physics with astrophysics"): the
                # subject that counts most is the one to judge; otherwise the first named.
                # A list elsewhere ("do they only want physics and engineering people?")
                # is no joint honours of the degree already named.
                current = facts.get(DEGREE_SUBJECT)
                joint_degree = (
                    joint
                    and previous_degree_mention is not None
                    and previous_degree_mention is previous_mention
                )
                if current is None or (
                    joint_degree and _relevance_rank(rules, subject) < _relevance_rank(rules, current)
                ):
                    facts[DEGREE_SUBJECT] = subject
                if current is None or joint_degree:
                    previous_degree_mention = m
            elif role == HIGHER_DEGREE:
                current = facts.get(HIGHER_DEGREE_SUBJECT)
                if current is None or _relevance_rank(rules, subject) < _relevance_rank(rules, current):
                    facts[HIGHER_DEGREE_SUBJECT] = subject
            elif role == A_LEVEL_ROLE:
                a_level_mentions.append(m)
                if subject not in a_level_subjects:
                    a_level_subjects.append(subject)
        elif m.kind == "count":
            if re.match(
                r"\s*((at|x|grade)\s*(grade\s*)?(A\*|[A-G]|[1-9])|(A\*|[A-G]|[1-9])'?s)\b", text[m.end :]
            ):
                continue  # "five at B": a number of GCSEs at a grade
            count = parse_count(m.value)
            role = _role_for(text, m, anchors, asked, programme, prefer_next=True)
            if count is not None and role == A_LEVEL_ROLE:
                facts[A_LEVEL_COUNT] = count
    if implied_subject:
        facts.setdefault(DEGREE_SUBJECT, implied_subject)  # "an MPhys": physics
    if (
        len(asked_subjects) == 1
        and DEGREE_SUBJECT not in facts
        and facts.get(DEGREE_CLASS) not in (None, NONE_HELD)
        and not any(a.role in (A_LEVEL_ROLE, ALTERNATIVE_ROLE) for a in anchors)
    ):
        # "Is chemistry close enough for the STP? 2:1 from Durham": the degree asked about
        # is the one they have.
        facts[DEGREE_SUBJECT] = asked_subjects[0]
    occupation = _OCCUPATION.search(text)
    if occupation and DEGREE_SUBJECT not in facts and not _ALL_SCHOOL.search(text):
        # "I'm a chemical engineer": the branch of engineering the person works in.
        subject = f"{occupation.group('branch').lower()} engineering"
        if rules.subject_category(subject) != UNKNOWN_SUBJECT:
            facts[DEGREE_SUBJECT] = subject
    if (
        facts.get(A_LEVEL_ALTERNATIVES)
        and A_LEVEL_COUNT not in facts
        and not any(
            a.role == A_LEVEL_ROLE and not _REQUIREMENT_BEFORE.search(_clause_before(text, a.start, 40))
            for a in anchors
        )
    ):
        # "I'm taking Highers", or "a BTEC" in answer to "how many A-levels?": instead.
        # ("... or do they only want A levels?" asks about A-levels; it has none.)
        facts[A_LEVEL_COUNT] = 0
    if a_level_subjects and facts.get(A_LEVEL_COUNT) == 0 and not _NO_A_LEVELS.search(text):
        del facts[A_LEVEL_COUNT]  # "didn't take it at A-level; my A-levels are maths, ..."
    if a_level_subjects:
        facts[A_LEVEL_SUBJECTS] = a_level_subjects
        if A_LEVEL_GRADES not in facts:
            named = grades_of_subjects(
                text,
                [(m.start, m.end) for m in a_level_mentions],
                len(a_level_subjects),
                facts.get(A_LEVEL_COUNT),
            )
            if named:
                facts[A_LEVEL_GRADES] = named
        if A_LEVEL_COUNT not in facts and len(a_level_subjects) >= 2 and _all_named(text):
            facts[A_LEVEL_COUNT] = len(a_level_subjects)
        elif A_LEVEL_COUNT not in facts and len(a_level_subjects) == 1 and singular and _all_named(text):
            facts[A_LEVEL_COUNT] = 1

    gcse_context = any(a.role == GCSE_ROLE for a in anchors) or asked == GCSE_GRADES
    if gcse_context and facts.get(GCSE_GRADES) != EQUIVALENT:
        judged = judge_gcses(rules, _gcse_part(text, anchors))
        if judged:
            facts[GCSE_GRADES] = judged

    _status_words(text, [Span(a.start, a.end, a.role) for a in anchors] + subject_spans, facts)
    if (
        gcses_denied
        and GCSE_GRADES not in facts
        and set(facts.get(A_LEVEL_ALTERNATIVES) or ()) & _NOT_UK_SCHOOL
    ):
        facts[GCSE_GRADES] = EQUIVALENT  # a school system without GCSEs: the universities compare
    _origin(text, mentions, anchors, facts, programme)
    if graded_abroad and _has_degree(facts):
        # "CGPA 3.5", "Second Class Lower Division", "First Division", "B.Tech": a degree
        # graded outside the UK system, whatever university is named.
        facts[DEGREE_OVERSEAS] = True
    return facts


# "Should I do a masters or a PhD?": the second is asked about too.
_ASKED_ALTERNATIVE = re.compile(
    r"^\W*(should|would|do|does|is|can|could|will)\b.*\bor\s+(an?\s+|the\s+)?$", re.I | re.S
)


def _integrated_called_masters(text: str, m: _Mention, mentions: List[_Mention], rules: EntryRules) -> bool:
    """True when "a masters" names an integrated master's said in the same sentence
    ("my MEng ... it's a masters, right?"), not a higher degree of its own."""
    if not re.fullmatch(r"master'?s?( degree)?", text[m.start : m.end], re.I):
        return False
    if not re.search(
        r"\b(it'?s|it is|is|as|means?|counts? as)\s+(a|an)?\s*$", text[max(0, m.start - 20) : m.start], re.I
    ):
        return False
    sentence_start = _sentence_around(text, m.start)[0]
    return any(
        other.kind == "qualification"
        and canonical_qualification(other.value, rules.qualifications) == "integrated_masters"
        and sentence_start <= other.start < m.start
        for other in mentions
    )


# "MS Biomedical Engineering", "an M.S. in physics": an American-style master's (upper
# case only, so "ms" and "Ms Smith" are not degrees).
_AMERICAN_MASTERS = re.compile(r"\bM\.?S\.?(?=\s+(in\s+)?[A-Za-z])")


def _with_american_masters(text: str, mentions: List[_Mention]) -> List[_Mention]:
    """The mentions, with an "MS" named just before a subject read as a master's degree."""
    found = [
        _Mention("qualification", "msc", match.start(), match.end())
        for match in _AMERICAN_MASTERS.finditer(text)
        if any(m.kind == "subject" and 0 <= m.start - match.end() <= 4 for m in mentions)
        and not any(m.start <= match.start() < m.end for m in mentions)
    ]
    return sorted(mentions + found, key=lambda m: m.start) if found else mentions


def _sentence_before(text: str, position: int) -> str:
    """The words from the start of the sentence up to `position`."""
    return re.split(r"[.?!\n]", text[:position])[-1]


_SUBJECT_NEXT = re.compile(r"\s*(in\s+)?[A-Za-z]", re.I)
# School-leaving qualifications of systems without GCSEs.
_NOT_UK_SCHOOL = {"irish_leaving_cert", "ib", "overseas_school"}
# Ways of grading a degree that UK universities do not use (a UK degree's formal name is
# "Second Class Honours (Upper Division)", with "Honours").
_OVERSEAS_GRADING = re.compile(
    r"\bc\.?g\.?p\.?a\b|\bg\.?p\.?a\b|\bfirst division\b|\bb\.?\s?tech\b|\bfirst class with distinction\b"
    r"|\bgrade (of )?[1-4],\d\b|\bnote [1-4],\d\b"
    r"|\bsecond class (upper|lower)( division)?\b"
    # (not a UK student's running average: "averaging 71% so far")
    r"|(?<!averaging )(?<!average of )(?<!averaged )(?<!average )\b\d{2}(\.\d+)?\s?%",
    re.I,
)


def _has_degree(facts: Mapping[str, Any]) -> bool:
    has_class = facts.get(DEGREE_CLASS) not in (None, NONE_HELD)
    return has_class or bool(facts.keys() & {DEGREE_SUBJECT, DEGREE_TYPE})


def _list_named_after(
    text: str, mention: _Mention, mentions: List[_Mention], anchors: List[_Anchor]
) -> Optional[str]:
    """The qualification named right after the list of subjects `mention` is in ("maths,
    further maths and physics A-levels"), or None."""
    subjects = [m for m in mentions if m.kind == "subject" and m.start >= mention.start]
    last = mention
    for following in subjects[1:]:
        if not _LIST_JOIN.fullmatch(text[last.end : following.start]):
            break
        last = following
    anchor = next((a for a in anchors if a.start >= last.end), None)
    if anchor and re.fullmatch(r"\s*(at\s+)?", text[last.end : anchor.start], re.I):
        return anchor.role
    return None


def _gcse_part(text: str, anchors: List[_Anchor]) -> str:
    """The part of a message about GCSEs, so that A-level grades are not read as GCSEs."""
    others = [a for a in anchors if a.role in (A_LEVEL_ROLE, ALTERNATIVE_ROLE, DEGREE_ROLE, HIGHER_DEGREE)]
    gcse = [a for a in anchors if a.role == GCSE_ROLE]
    if not gcse or not others:
        return text
    start = max([a.end for a in others if a.end <= gcse[0].start] or [0])
    ends = [a.start for a in others if a.start >= gcse[-1].end]
    return text[start : min(ends) if ends else len(text)]


def _correction_point(text: str) -> Optional[int]:
    match = _CORRECTION.search(text or "")
    return match.end() if match else None


def _class_of_higher_degree(text: str, mention: _Mention, anchors: List[_Anchor]) -> bool:
    """'a first in my MSc': the class is the higher degree's result."""
    after = [a for a in anchors if a.start >= mention.end]
    if not after or after[0].role != HIGHER_DEGREE:
        return False
    between = text[mention.end : after[0].start]
    return bool(re.fullmatch(r"\s*(in|for|on|from|with)\s+(my|the|an?|her|his|their)?\s*", between, re.I))


def _status_words(text: str, spans: List[Span], facts: Dict[str, Any]) -> None:
    """'predicted a 2:1', 'finishing my MSc in December', 'thinking about a masters',
    'dropped out of my PhD', 'year 13 taking physics': where each qualification stands
    (careers.timing), as the status facts; a qualification with no such words is held."""
    cues = timing.status_cues(text)
    found = timing.statuses(text, spans, cues)
    gone = set(timing.dropped(text, spans, cues))
    if gone and facts.get(A_LEVEL_SUBJECTS):
        # "dropped chemistry after AS": not one of the A-levels.
        kept = [s for s in facts[A_LEVEL_SUBJECTS] if s not in gone]
        if kept != facts[A_LEVEL_SUBJECTS]:
            if facts.get(A_LEVEL_COUNT) == len(facts[A_LEVEL_SUBJECTS]):
                facts[A_LEVEL_COUNT] = len(kept)
            facts[A_LEVEL_SUBJECTS] = kept
    gcses = found.get(GCSE_ROLE)
    if gcses == IN_PROGRESS and _RESIT.search(text):
        if facts.get(GCSE_GRADES) == NOT_MET:
            facts[GCSE_GRADES] = UNSURE  # a GCSE being resat: the universities will judge the result
    elif gcses == PREDICTED or (gcses in (IN_PROGRESS, PLANNED) and _GCSES_UNDER_WAY.search(text)):
        facts[GCSE_STATUS] = gcses  # "predicted 6s", "in year 11 doing my GCSEs"
    elif gcses == HELD and GCSE_GRADES in facts:
        facts[GCSE_STATUS] = HELD  # "got my GCSE results: all 6s"
    degree = found.get(DEGREE_ROLE)
    has_degree = _has_degree(facts)
    if degree == HELD and has_degree and facts.get(DEGREE_CLASS):
        facts[DEGREE_STATUS] = HELD  # "I've graduated now, I got a first": no longer predicted
    elif degree in (PREDICTED, IN_PROGRESS) and has_degree:
        has_class = facts.get(DEGREE_CLASS) not in (None, NONE_HELD)
        facts[DEGREE_STATUS] = PREDICTED if has_class else IN_PROGRESS
    elif degree in (PLANNED, ABANDONED):
        # A degree not started or not finished is no degree (yet): nothing about it is held,
        # not even the class it was heading for ("dropped out, I was on track for a 2:1").
        for slot in (DEGREE_SUBJECT, DEGREE_TYPE, DEGREE_OVERSEAS, DEGREE_CLASS, DEGREE_STATUS):
            facts.pop(slot, None)
        if degree == ABANDONED:
            facts[DEGREE_CLASS] = NONE_HELD
    higher = found.get(HIGHER_DEGREE)
    if higher == HELD:
        if facts.get(HIGHER_DEGREE) not in (None, NONE_HELD):
            facts[HIGHER_DEGREE_STATUS] = HELD  # "my MSc was awarded in June"
    elif higher and facts.get(HIGHER_DEGREE) not in (None, NONE_HELD):
        status = IN_PROGRESS if higher == PREDICTED else higher
        facts[HIGHER_DEGREE_STATUS] = status
        if status == IN_PROGRESS:
            ends = [timing.ends_of(text, s) for s in spans if s.role == HIGHER_DEGREE]
            if any(ends):
                facts[HIGHER_DEGREE_ENDS] = next(e for e in ends if e)
    # A BTEC, Access course, T-level or Highers being taken are the same stage as A-levels
    # ("Year 13: a BTEC plus A-level maths"), but one only planned after A-levels of one's
    # own leaves those held ("A-levels in 2003, thinking of an Access course").
    own_a_levels = bool(facts.get(A_LEVEL_COUNT) or facts.get(A_LEVEL_SUBJECTS))
    alternative = found.get(ALTERNATIVE_ROLE)
    a_levels = found.get(A_LEVEL_ROLE) or (None if own_a_levels and alternative == PLANNED else alternative)
    if a_levels == IN_PROGRESS and facts.get(A_LEVEL_GRADES):
        # "resitting chem in June, already have maths B and physics C": one A-level resat
        # to better its grade; the A-levels and their grades are held.
        others = [c for c in cues if not _RESIT.fullmatch(text[c.start : c.end])]
        if timing.statuses(text, spans, others).get(A_LEVEL_ROLE) in (None, HELD):
            a_levels = HELD
    if found.get(A_LEVEL_ROLE) == ABANDONED:
        facts[A_LEVEL_COUNT] = 0  # "I quit my A-levels"
        facts.pop(A_LEVEL_STATUS, None)
    elif a_levels in (PREDICTED, IN_PROGRESS, PLANNED):
        facts[A_LEVEL_STATUS] = PLANNED if a_levels == PLANNED else IN_PROGRESS
    elif a_levels == HELD and facts.keys() & {A_LEVEL_COUNT, A_LEVEL_SUBJECTS, A_LEVEL_GRADES}:
        facts[A_LEVEL_STATUS] = HELD  # "I got my results: AAB"


# A message that opens by asking about a subject: "Is chemistry close enough ...",
# "does physics count".
_ASKED_OWN_SUBJECT = re.compile(r"^\W*(is|does|would|will|can|could)\s+(a\s+|an\s+|my\s+)?$", re.I)
# ... asked about as good enough: "close enough", "relevant", "count".
_AS_GOOD_AS = re.compile(
    r"[^.?!]{0,30}?\b(close enough|relevant|count|counts|ok|okay|good enough|accepted|acceptable"
    r"|suitable|eligible)\b",
    re.I,
)
_A_LEVEL_YEARS = re.compile(r"(year|yr|y) ?1[23]|sixth[- ]form|6th form", re.I)
_SCHOOL_STAGE_NAMES = re.compile(r"\ba[- ]?levels?\b|\bgcses?\b", re.I)

_DEGREE_WORDS = re.compile(r"\b(degree|uni|university|graduated|graduate|bachelor'?s|college)\b", re.I)


def _origin(
    text: str,
    mentions: List[_Mention],
    anchors: List[_Anchor],
    facts: Dict[str, Any],
    programme: Optional[str],
) -> None:
    """'a 2:1 from Nigeria', 'my degree is from a university in India': a first
    degree from outside the UK ("not the UK" is not an origin)."""
    origins = [m for m in mentions if m.kind == "origin" and not _negated(text, m)]
    degree = [a for a in anchors if a.role == DEGREE_ROLE]
    about_degree = (
        degree
        or facts.get(DEGREE_SUBJECT)
        or (
            _DEGREE_WORDS.search(text)
            and programme != PTP
            and not any(a.role in (A_LEVEL_ROLE, GCSE_ROLE, ALTERNATIVE_ROLE) for a in anchors)
        )
    )
    if not origins or not about_degree:
        return
    if degree:
        target = degree[0]
        # A country outside the UK named anywhere near the degree outweighs "UK" said of
        # something else ("from the US and UK ENIC says it's 2.1 equivalent"); the nearest
        # place that is about the degree is where it is from.
        abroad = [m for m in origins if m.value == "overseas"] or origins
        by_distance = sorted(abroad, key=lambda m: min(abs(m.start - target.end), abs(target.start - m.end)))
        found = next((m for m in by_distance if _where_degree_is_from(text, m, anchors, degree)), None)
        if found is None:
            return
        origin = found
    else:
        origin = origins[0]
    facts[DEGREE_OVERSEAS] = origin.value == "overseas"


def _where_degree_is_from(text: str, origin: _Mention, anchors: List[_Anchor], degree: List[_Anchor]) -> bool:
    """Whether a place named in the message is where the degree is from."""
    nearest_anchor = min(anchors, key=lambda a: min(abs(origin.start - a.end), abs(a.start - origin.end)))
    before = [a for a in anchors if a.end <= origin.start]
    # "Second class lower in Physics from University of Ghana, then MSc ...": a place
    # after "from" or "at" belongs to the qualification before it.
    from_before = (
        before
        and before[-1].role == DEGREE_ROLE
        and re.fullmatch(
            r"[^.;!?]{0,60}\b(from|at)\b[^.;!?]{0,30}", text[before[-1].end : origin.start], re.I
        )
    )
    if nearest_anchor.role != DEGREE_ROLE and not from_before:
        return False
    # "She's travelling in Vietnam": a country in a sentence with no degree in it is
    # not where the degree is from.
    sentence = _sentence_around(text, origin.start)
    words = text[sentence[0] : sentence[1]]
    if (
        not any(sentence[0] <= a.start < sentence[1] for a in degree)
        and not _DEGREE_WORDS.search(words)
        and not _STUDY_WORDS.search(words)
        and _ELSEWHERE_WORDS.search(words)
    ):
        return False
    # "... in Electrical Engineering and presently I am working with a company in Lagos":
    # a clause of its own about work or living is not about the degree either, unless it
    # says so after the place ("I was based in Nigeria for it").
    clause = re.split(r"[,;:()]|\band\b|\bbut\b", text[sentence[0] : origin.start])[-1]
    return not (
        _ELSEWHERE_WORDS.search(clause)
        and not (_STUDY_WORDS.search(clause) or _DEGREE_WORDS.search(clause))
        and not _FOR_THE_DEGREE.match(text[origin.end :])
    )


_FOR_THE_DEGREE = re.compile(
    r"\s*(for|during)\s+(it|that|them|my|the|her|his)\b(\s+(degree|course|studies|bsc|ba|beng|undergrad))?",
    re.I,
)


# A sentence about studying ("I studied in India", "I did it in Pakistan") says where the
# degree is from; one about travel, work or family ("she's travelling in Vietnam") does not.
_STUDY_WORDS = re.compile(
    r"\b(stud(y|ied|ying)|did (it|my|a|an|that)|course|school|graduat\w*|qualif\w*)\b", re.I
)
_ELSEWHERE_WORDS = re.compile(
    r"\b(travel\w*|holiday\w*|moving|moved|move|living|lives|live|work\w*|job|jobs|visa|family|husband|wife"
    r"|partner|born|grew up|relocat\w*|based|staying|visit\w*)\b",
    re.I,
)


def _sentence_around(text: str, position: int) -> Tuple[int, int]:
    """Where the sentence holding `position` starts and ends."""
    start = max((m.end() for m in re.finditer(r"[.!?\n]\s", text[:position])), default=0)
    following = re.search(r"[.!?\n](\s|$)", text[position:])
    return start, position + following.start() if following else len(text)


_NOT_A_DEGREE = ("hnd", "hnc", "foundation_degree")


# The degree a qualification was not turned into: "never did the dissertation to turn it
# into the MSc", "didn't top it up to a masters".
_NEVER_TURNED_INTO = re.compile(
    r"\b(never|didn'?t|did not|haven'?t|have not|couldn'?t|not)\b[^.;!?]{0,50}"
    r"\b(turn|convert|top|upgrade)\w*\s+(it|that|this)\s*(up\s+)?(in)?to\s+(an?|the|my|a full)?\s*$",
    re.I,
)


_CANNOT_AFFORD = re.compile(
    r"\b(can'?t|cannot|couldn'?t) afford( to (do|study|get|take))?\s+(an?\s+|the\s+|any\s+)?$", re.I
)

# GCSEs still being taken, said of the GCSEs themselves (a Year 12's "doing A-levels" times
# the A-levels, not the GCSEs named beside them).
_GCSES_UNDER_WAY = re.compile(
    r"\b(year|yr) ?(9|10|11)\b|\b(doing|taking|sitting|sit|studying for) (my |his |her |their )?gcses?\b"
    r"|\bgcses? (are |is )?(in|this|next) (may|june|summer|year)\b",
    re.I,
)

_RESIT = re.compile(r"\bre-?(sit|sitting|sat|take|taking|took)\b", re.I)

# (a dot inside "B.Sc. (Physics)" is no sentence's end)
_FROM_PLACE = r"(?:[^.;!?]|\.(?=\S|\s*\())){0,60}\b(from|at)\b[^.;!?]{0,30}"


def apply_facts(profile: Mapping[str, Any], facts: Mapping[str, Any]) -> Dict[str, Any]:
    """The slot changes that new facts make to a profile, including the facts they
    make stale: no higher degree has no subject, a different qualification is no
    longer 'in progress' unless the message says so."""
    changes = dict(facts)
    if facts.get(HIGHER_DEGREE) == NONE_HELD:
        for slot in (HIGHER_DEGREE_SUBJECT, HIGHER_DEGREE_STATUS, HIGHER_DEGREE_ENDS):
            changes.setdefault(slot, None)
    elif HIGHER_DEGREE in facts and facts[HIGHER_DEGREE] != profile.get(HIGHER_DEGREE):
        changes.setdefault(HIGHER_DEGREE_STATUS, None)
        changes.setdefault(HIGHER_DEGREE_ENDS, None)
    if facts.get(A_LEVEL_COUNT) == 0:
        for slot in (A_LEVEL_SUBJECTS, A_LEVEL_STATUS, A_LEVEL_GRADES):
            changes.setdefault(slot, None)  # "a BTEC instead of A-levels": none of them stands
    if facts.get(DEGREE_CLASS) == NONE_HELD:
        for slot in (DEGREE_SUBJECT, DEGREE_STATUS, DEGREE_TYPE, DEGREE_OVERSEAS):
            changes.setdefault(slot, None)
    if (
        DEGREE_CLASS in facts
        and facts.get(DEGREE_CLASS) != NONE_HELD
        and profile.get(DEGREE_TYPE) in ("ordinary_degree", "hnd", "hnc", "foundation_degree")
        and DEGREE_TYPE not in facts
    ):
        changes[DEGREE_TYPE] = None
    # Facts said again are kept (they still answer); clearing what is not there is noise.
    return {k: v for k, v in changes.items() if v is not None or profile.get(k) is not None}
