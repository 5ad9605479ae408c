"""Does a reply ask us to stop? Opt-out detection in English, German, French and Spanish.

A reply is read the way a person reads it, not as a fixed string:

1. Normalise. Casefold, fold accents (é → e, ü → u, ß → ss), expand English contractions
   ("don't" → "do not") and French/Spanish elisions ("m'écrire" → "me ecrire"), and drop
   punctuation. A sentence end (. ! ? ; : dashes, new lines) splits the reply into clauses that
   no rule reaches across; a comma stays as a token of its own that no gap crosses, so "I am out
   of office, write to me tomorrow" does not join "out" and "write" into one thought.
2. Neutralise the phrases that look like a refusal and are an invitation: "don't hesitate to
   contact me", "zögern Sie nicht", "n'hésitez pas", "no dudes en", and a negated stop ("don't
   stop sending", "n'arrêtez pas", "no dejes de"). They are replaced by a comma, so nothing
   matches through them.
3. Match per-language rules. Each is a phrase pattern over the normalised words: word stems,
   so that any inflection matches ("kontaktier" → kontaktieren, kontaktiert, kontaktiert mich),
   and gaps of at most a few words where a language puts words between the parts: German's verb
   first ("Kontaktieren Sie mich bitte nie wieder") or last ("nicht mehr kontaktieren"), the
   French "ne … plus" around the verb, the Spanish "no me … más".

A reply that is only "stop" (or "stopp", "arrêtez", "basta", "alto") is an opt-out; "stop" in a
sentence counts only with what is stopped ("stop messaging me") or at the end of a clause
("please stop."), so "I'll stop by your stand" is not one.

Replies in other languages, irony and typos can be missed: an opt-out that is not detected is
marked by a person on the message ("Mark replied"), and a wrong one is undone on the contact.
docs/campaigns.md describes the rule; tests/campaigns/test_opt_out.py holds the phrasings.
"""

import re
import unicodedata
from collections.abc import Iterable

# --- normalisation ---------------------------------------------------------------------------

_ENGLISH_CONTRACTIONS = [
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bcannot\b"), "can not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'d\b"), " would"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'ll\b"), " will"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'ve\b"), " have"),
]
# French (and Catalan-like Spanish) elisions: m'écrire, n'hésitez, d'être, qu'on, s'il.
_ELISION = re.compile(r"\b(m|n|t|s|l|d|j|qu)'")
_ELIDED = {"m": "me", "n": "ne", "t": "te", "s": "se", "l": "le", "d": "de", "j": "je", "qu": "que"}
_CLAUSE_END = re.compile(r"[.!?;:\n\r\u2013\u2014\u2026]+")
_NOT_A_WORD = re.compile(r"[^a-z0-9,]+")


def normalise(text: str) -> list[str]:
    """The reply as clauses of casefolded, accent-free words separated by single spaces (a
    comma is a word of its own)."""
    text = unicodedata.normalize("NFKD", (text or "").casefold())
    text = "".join(char for char in text if not unicodedata.combining(char))
    text = text.replace("\u2019", "'").replace("`", "'")
    for pattern, replacement in _ENGLISH_CONTRACTIONS:
        text = pattern.sub(replacement, text)
    text = _ELISION.sub(lambda match: _ELIDED[match.group(1)] + " ", text)
    clauses = []
    for clause in _CLAUSE_END.split(text):
        words = _NOT_A_WORD.sub(" ", clause.replace(",", " , ")).split()
        while words and words[0] == ",":
            words.pop(0)
        if words:
            clauses.append(" ".join(words))
    return clauses


# --- the rules ---------------------------------------------------------------------------------


def gap(words: int) -> str:
    """Up to `words` words (never a comma) between two parts of a pattern."""
    return rf"(?: [^ ,]+){{0,{words}}}"


def _compiled(*patterns: str) -> list[re.Pattern]:
    return [re.compile(pattern) for pattern in patterns]


# English
_EN_CONTACT = (
    r"(?:contact\w*|messag\w*|e ?mail\w*|mail\w*|writ\w*|text\w*|reach\w*|spam\w*|send\w*"
    r"|call\w*|bother\w*|pester\w*|ping\w*|solicit\w*|communicat\w*|inmail\w*)"
)
_EN_NOUN = r"(?:messages?|e ?mails?|mails?|contact|communications?|outreach|spam|texts?|inmails?)"
ENGLISH = _compiled(
    r"\bunsubscrib\w*",
    r"\bopt(?:ing|ed)? ?out\b",
    r"\b(?:remove|delete|take|erase|strike|drop) (?:me|us)(?: [^ ,]+){0,3} (?:from|off)"
    + gap(3)
    + r" (?:lists?|database|mailing|distribution|newsletter|campaign|sequence|records|crm)\b",
    r"\b(?:remove|delete|erase) (?:me|us)(?: please| thanks| thank you)?$",
    r"\b(?:remove|delete|erase)(?: all)? my (?:contact )?"
    r"(?:details|data|information|info|email|address|number)\b",
    r"\b(?:stop|quit|cease|halt|discontinue)\w*" + gap(1) + " " + _EN_CONTACT,
    r"\bstop(?: it| now| please| thanks| thank you)?$",
    r"\b(?:do not|never)(?: ever)? " + _EN_CONTACT + gap(2) + r" (?:me|us|again|anymore)\b",
    r"\b(?:no|any) (?:more|further) " + _EN_NOUN + r"\b",
    r"\bnot (?:wish|want|like)\w*(?: to)? (?:receive|get)(?: any)?(?: more| further)? " + _EN_NOUN,
    r"\b(?:not|never) (?:[^ ,]+ ){0,3}be (?:contacted|messaged|e ?mailed|mailed|called)\b",
    r"\bleave me alone\b",
    r"\b" + _EN_CONTACT + r" (?:me|us) no (?:more|longer)\b",
    r"\brefrain from " + _EN_CONTACT,
)
ENGLISH_GUARDS = _compiled(
    r"\b(?:do not|never|not|can not|will not|would not) (?:ever )?(?:stop|quit)\w*",
    r"\b(?:do not|never) hesitate\b",
)

# German
_DE_CONTACT = (
    r"(?:kontaktier\w*|anschreib\w*|anzuschreib\w*|angeschrieben|schreib\w*|meld\w*|schick\w*"
    r"|zuschick\w*|send\w*|mail\w*|anruf\w*|anzuruf\w*|angerufen|belastig\w*|nerv\w*"
    r"|ruf\w*|zu kontaktier\w*|zu schreib\w*)"
)
_DE_NEGATION = r"(?:nicht mehr|nichts mehr|nie wieder|nie mehr|nimmer|nicht weiter|nicht)"
_DE_NOUN = r"(?:nachricht\w*|e ?mails?|mails?|kontakt\w*|anfrage\w*|werbung|zuschrift\w*|post)"
GERMAN = _compiled(
    r"\b(?:abmeld\w*|austrag\w*|abbestell\w*)",
    r"\btrag\w*(?: sie)?(?: bitte)? mich" + gap(4) + r" aus\b",
    r"\b" + _DE_CONTACT + gap(4) + " " + _DE_NEGATION + r"\b",
    r"\b(?:nicht mehr|nie wieder|nie mehr|nicht weiter|nicht)" + gap(2) + " " + _DE_CONTACT,
    r"\bkein\w* weiter\w* " + _DE_NOUN,
    r"\bkein\w* " + _DE_NOUN + r" mehr\b",
    r"\bhor\w*(?: sie)? auf(?: ,)?(?: mich| mir| uns)?(?: zu)? " + _DE_CONTACT,
    r"\blass\w*(?: sie)? mich(?: bitte)? in ruhe\b",
    r"\b(?:entfern\w*|losch\w*|streich\w*)(?: sie)?(?: bitte)? "
    r"(?:mich|meine (?:daten|kontaktdaten|adresse|e ?mail\w*))\b",
    r"\bnehm\w*(?: sie)?(?: [^ ,]+){0,2} mich" + gap(2) + r" (?:von|aus) "
    r"(?:der|dem|ihrer|ihrem|eurer|eurem|deiner|deinem) (?:liste|verteiler|datenbank)\b",
    r"\bunterlass\w*" + gap(3) + r" (?:kontakt\w*|nachricht\w*|anschreib\w*|anruf\w*)",
    r"\bstell\w*" + gap(3) + r" kontakt\w* ein\b",
    r"\bwidersp\w*" + gap(3) + r" (?:kontakt\w*|werbung|nutzung)",
)
GERMAN_GUARDS = _compiled(r"\bzoger\w*(?: sie)? nicht\b")

# French
_FR_CONTACT = (
    r"(?:contact\w*|recontact\w*|ecri\w*|envo\w*|sollicit\w*|relanc\w*|appel\w*|spam\w*"
    r"|derang\w*|harcel\w*|mail\w*)"
)
_FR_NOUN = r"(?:messages?|mails?|e ?mails?|courriels?|sollicitations?|relances?)"
FRENCH = _compiled(
    r"\b(?:desabonn\w*|desinscri\w*)",
    r"\bne (?:me |nous )?" + _FR_CONTACT + r" (?:plus|jamais|pas)\b",
    r"\bne (?:plus|jamais|pas) (?:me |nous )?(?:re)?" + _FR_CONTACT,
    r"\bne (?:plus|jamais) recevoir\b",
    r"\bne (?:veu|souhait|desir|voul)\w* (?:plus|pas|jamais) (?:de )?(?:vos |tes |ces )?"
    + _FR_NOUN,
    r"\bne (?:souhait\w*|veu\w*|desir\w*|voul\w*) (?:plus|pas)(?: [^ ,]+)? "
    r"(?:etre " + _FR_CONTACT + r"|recevoir|que on me)",
    r"\b(?:arret\w*|cess\w*) (?:de )?(?:me |nous )?" + _FR_CONTACT,
    r"\bcess\w*" + gap(2) + r" (?:communication|contact|echange|envoi)\w*",
    r"\b(?:retir\w*|enlev\w*|supprim\w*|effac\w*|ray\w*) (?:moi|nous)\b",
    r"\bme (?:retir|enlev|supprim|ray|effac)\w* (?:de|du|des)\b",
    r"\b(?:retir\w*|enlev\w*|supprim\w*|effac\w*) (?:mes|toutes mes) "
    r"(?:coordonnees|donnees|informations|infos|contacts?|adresses?)\b",
    r"\blaiss\w* (?:moi|nous) (?:tranquilles?|en paix)\b",
    r"\bplus (?:aucun\w*|jamais)(?: de)? " + _FR_NOUN,
    r"\b(?:pas|plus) de " + _FR_NOUN + r" supplementaires?\b",
    r"\brefus\w* (?:de )?etre " + _FR_CONTACT,
)
FRENCH_GUARDS = _compiled(r"\bne hesit\w* pas\b", r"\bne arret\w* pas\b")

# Spanish
_ES_CONTACT = (
    r"(?:contact\w*|escrib\w*|envi\w*|mand\w*|llam\w*|molest\w*|insist\w*|spam\w*"
    r"|mensaje\w*)"
)
_ES_NOUN = r"(?:mensajes?|correos?|e ?mails?|mails?|llamadas?|spam|publicidad)"
SPANISH = _compiled(
    r"\b(?:dar\w*|den\w*|doy|dad\w*|solicit\w*|pid\w*|tramit\w*)(?: me| la| mi)?(?: de)? baja\b",
    r"\b(?:cancel\w*|anul\w*)(?: mi| la)? suscripcion\b",
    r"\bno (?:me |nos )(?:vuelv\w* a )?" + _ES_CONTACT,
    r"\bno vuelv\w* a " + _ES_CONTACT,
    r"\bno (?:insist\w*|molest\w*) mas\b",
    r"\bdej\w* de (?:" + _ES_CONTACT + r"|recibir)",
    r"\bno (?:quiero|deseo|quisiera)(?: [^ ,]+)? "
    r"(?:recibir|ser contactad\w*|que me " + _ES_CONTACT + ")",
    r"\bno mas " + _ES_NOUN,
    r"\bno (?:quiero|deseo|quisiera)(?: recibir)? mas " + _ES_NOUN,
    r"\bno (?:volver a )?(?:contactar|escribir|enviar|mandar|llamar|molestar)(?:me|nos)\b",
    r"\bbasta de " + _ES_NOUN,
    r"\bnunca mas (?:me |nos )?" + _ES_CONTACT,
    r"\b(?:borr|elimin|quit|saqu|sac|retir|excl)\w*(?:me|nos) de "
    r"(?:su|tu|la|vuestra|esta|sus|tus|vuestras) ",
    r"\b(?:borr|elimin|quit|suprim)\w* mis datos\b",
    r"\bdej\w*(?:me|nos) en paz\b",
)
SPANISH_GUARDS = _compiled(r"\bno dud\w*\b", r"\bno dej\w* de\b")

RULES = ENGLISH + GERMAN + FRENCH + SPANISH
GUARDS = ENGLISH_GUARDS + GERMAN_GUARDS + FRENCH_GUARDS + SPANISH_GUARDS

# A reply that is nothing but "stop".
STOP_WORDS = frozenset({"stop", "stopp", "arretez", "arrete", "basta", "alto", "halt"})


def is_opt_out(text: str, extra_phrases: Iterable[str] = ()) -> bool:
    """True when the reply asks not to be contacted again. extra_phrases (the
    OPT_OUT_PHRASES setting) are matched as whole words anywhere, after the same
    normalisation."""
    clauses = normalise(text)
    if " ".join(clauses) in STOP_WORDS:
        return True
    for clause in clauses:
        for guard in GUARDS:
            clause = guard.sub(",", clause)
        if any(rule.search(clause) for rule in RULES):
            return True
    words = f" {' '.join(clauses).replace(' ,', '')} "
    return any(
        f" {phrase} " in words
        for phrase in (" ".join(normalise(extra)).replace(" ,", "") for extra in extra_phrases)
        if phrase
    )
