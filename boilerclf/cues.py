"""Cue phrases of boilerplate in many languages, one class per function ("read also", "subscribe"…).

The hashed n-grams learn each language's words apart, from that language's pages: a Polish
"czytaj także" learns nothing from the German "lesen Sie auch" the training pages are full of.
Mapped to one class, each phrase lends its weight to the others, so the few pages of a language
still get its cues right (cross-validation on the pages in neither German nor English: macro
F1 0.802 → 0.812, subscription 0.688 → 0.724). An entry is a word, a word prefix (`stem*`), a
word pair (the telling pair of a longer phrase), or a word counted only first in a block (`^word`).
Matched on the block's tokens' hashes, so it costs a few array operations per page (~0.2 ms).
Written from the annotation guide's examples and the cues of the training pages; a lexicon is
never complete, and an entry only adds to its class's column, whose weight the model learns.
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from . import hashing

CUES: dict[str, str] = {
    "read_also": """read_also read_more read_next see_also more_from more_stories more_news more_articles also_like
        most_read most_popular most_viewed most_shared recommended related trending sie_auch auch_interessant
        zum_thema auch_interessieren weitere_artikel meistgelesen* empfehlung* verwandte lire_aussi lire_également
        voir_aussi même_sujet plus_lus lee_también lee_además leer_más puede_interesar lo_más más_noticias
        relacionad* leia_também leia_mais veja_também veja_mais mais_lidas saiba_mais leggi_anche
        potrebbe_interessarti czytaj_też czytaj_także czytaj_więcej czytaj_również zobacz_też zobacz_także
        zobacz_również polecamy najczęściej_czytane powiązane читайте_также по_теме lees_ook lees_meer
        läs_också läs_mer les_også lue_myös 関連* 相关* 推荐* 延伸阅读*""",
    "subscription": """subscri* newsletter* abonn* suscri* suscrí* inscrí* regístrate register registration assin*
        inscr* abbona* iscriviti prenumer* subskryp*
        подпис* рассылк* boletín* boletin* 訂閱* 订阅* 購読* 会員登録* registrier* sign_up signup join_us join_our
        join_now join_today join_thousands join_hundreds join_millions join_over join_more free_trial try_it try_free
        cancel_anytime cancel_any become_a members_only member_only zapisz_się jetzt_testen gratis_testen
        jetzt_abonnieren jetzt_registrieren premium abo probeabo paywall""",
    "sign_in": """sign_in log_in log_out my_account mein_konto se_connecter mon_compte iniciar_sesión mi_cuenta
        minha_conta moje_konto login logout signin einloggen anmelden abmelden connexion ingresar entrar accedi
        zaloguj войти ログイン* 登录*""",
    "support": """support_us support_our support_independent support_quality support_journalism unterstützen_sie
        jetzt_unterstützen donat* spende* soutenez faire_un apoya apoie donación doação wesprzyj sostieni пожертв*""",
    "share": """share shares tweet whatsapp pinterest linkedin facebook teilen partager compartir compartilhar
        condividi udostępnij поделиться print drucken imprimir imprimer email""",
    "follow": """follow_us follow_me folgen_sie folgt_uns suivez_nous siga_nos like_us síguenos seguici obserwuj
        подписывайтесь""",
    "ad": """advertisement* advertising sponsored sponsor ad ads anzeige werbung gesponsert publicité publicidad
        publicidade reklama pubblicità реклама partnerinhalt promoted continues_below partner_content 广告* 広告*""",
    "legal": """cookie* datenschutz* privacy consent einwilligung* confidentialit* privacidad privacidade prywatnoś*
        impressum terms_of mentions_légales aviso_legal agb""",
    "copyright": """copyright rights_reserved rechte_vorbehalten droits_réservés derechos_reservados
        direitos_reservados prawa_zastrzeżone diritti_riservati права_защищены""",
    "comments": """comment* kommentar* commentaire* comentario* comentário* komentarz* commenti комментар* reply
        antworten répondre responder leave_a""",
    "credit": """^by ^von ^par ^por ^di ^autor ^author ^photo ^foto ^bild ^quelle ^source ^fuente getty reuters dpa
        afp""",
}
CLASSES = tuple(CUES)
NAMES = tuple(f"cue_{c}{where}" for c in CLASSES for where in ("", "_first"))
FIRST_WORDS = 30  # cues are looked for among a block's first words, where they stand
_COPYRIGHT = ord("©")  # not a word character: counted apart, as a `copyright` cue


#: marks a word prefix's hash apart from the same letters as a whole word ("print" is no prefix of "printed")
_PREFIX = np.uint64(0x5BD1E9955BD1E995)


@lru_cache(maxsize=1)
def _table() -> tuple[np.ndarray, np.ndarray, np.ndarray, tuple[int, ...]]:
    """Every entry's hash (sorted), class, whether it counts only as a block's first word, and the
    lengths of the prefixes. A prefix also matches as a whole word."""
    entries = []
    for k, words in enumerate(CUES.values()):
        for entry in words.split():
            first, entry = entry.startswith("^"), entry.lstrip("^")
            if "_" in entry:
                a, b = entry.split("_")
                entries.append((hashing.pair_hash(hashing.raw_hash(a), hashing.raw_hash(b)), k, first, 0))
            elif entry.endswith("*"):
                value = hashing.raw_hash(entry[:-1])
                entries += [(value, k, first, 0), (value ^ int(_PREFIX), k, first, len(entry) - 1)]
            else:
                entries.append((hashing.raw_hash(entry), k, first, 0))
    entries.sort()
    hashes, classes, first_only, lengths = zip(*entries)
    return (np.asarray(hashes, dtype=np.uint64), np.asarray(classes), np.asarray(first_only),
            tuple(sorted(set(lengths) - {0})))


@lru_cache(maxsize=1)
def _screen() -> np.ndarray:
    """Whether any entry's hash has these top 16 bits."""
    screen = np.zeros(1 << 16, dtype=bool)
    screen[_table()[0] >> np.uint64(48)] = True
    return screen


def cue_matrix(sample: hashing.Texts, words: tuple, n: int) -> np.ndarray:
    """Per block, per class: whether its first words hold a cue, and whether its first word is one
    (a `©` counts anywhere in the block's sample, as a copyright cue).

    `words` are `sample.tokens()`: (rows, hashes, rank, start, end)."""
    table, classes, first_only, prefix_lengths = _table()
    rows, hashes, rank, starts, ends = (a[words[2] < FIRST_WORDS] for a in words)
    lengths = ends - starts
    pair_rows, pair_hashes = hashing.bigrams(rows, hashes)
    token, length = np.nonzero(lengths[:, None] > np.asarray(prefix_lengths))  # every prefix of every longer word
    prefixes = sample.span_hashes(starts[token], starts[token] + np.asarray(prefix_lengths)[length]) ^ _PREFIX
    h = np.concatenate([hashes, pair_hashes, prefixes])
    r = np.concatenate([rows, pair_rows, rows[token]])
    at = np.concatenate([rank, rank[:-1][rows[1:] == rows[:-1]], rank[token]])
    maybe = np.flatnonzero(_screen()[h >> np.uint64(48)])  # a cheap look first: most words are no cue
    h, r, at = h[maybe], r[maybe], at[maybe]
    found = np.minimum(np.searchsorted(table, h), len(table) - 1)
    hit = (table[found] == h) & ~(first_only[found] & (at > 0))
    r, cls, lead = r[hit], classes[found[hit]], at[hit] == 0
    out = np.zeros((n, 2 * len(CLASSES)), dtype=np.float32)
    out[r, 2 * cls] = 1
    out[r[lead], 2 * cls[lead] + 1] = 1
    out[np.unique(sample.row[sample.lower == _COPYRIGHT]), 2 * CLASSES.index("copyright")] = 1
    return out
