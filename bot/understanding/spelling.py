"""How each language is typed: SMS and phonetic spellings, elisions, negation words.

The tables hold folded forms (lower case, no accents), because that is what people type
and what `normalize` compares. They stay short on purpose: a spelling belongs here only
when it is common in messages and cannot be reached by stemming or typo tolerance.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _table(pairs: str) -> dict[str, tuple[str, ...]]:
    """`"jsp=je sais pas; chuis,chui=je suis"` -> a lookup table (easier to read and edit)."""
    table: dict[str, tuple[str, ...]] = {}
    for entry in pairs.split(";"):
        if entry.strip():
            typed, meant = entry.split("=")
            for form in typed.split(","):
                table[form.strip()] = tuple(meant.split())
    return table


@dataclass(frozen=True, slots=True)
class Spelling:
    """The spelling rules of one language."""

    stemmer: str | None  # Snowball algorithm name, None: words are kept as typed
    words: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "jsp" -> je sais pas
    elisions: Mapping[str, str] = field(default_factory=dict)  # "j" (of "j'ai") -> "je"
    clitics: Mapping[str, str] = field(default_factory=dict)  # "m" (of "I'm") -> "am"
    not_bases: Mapping[str, str] = field(default_factory=dict)  # "don" (of "don't") -> "do"
    negators: frozenset[str] = frozenset()  # open a negation scope: "pas envie" -> "¬envi"
    flag_negators: frozenset[str] = frozenset()  # negative, no scope of their own ("ne")
    late_negators: frozenset[str] = frozenset()  # "plus": a negation unless a comparative
    not_after: frozenset[str] = frozenset()  # "un peu plus", "à plus": no negation
    not_before: frozenset[str] = frozenset()  # "plus tard": no negation
    kept_negators: frozenset[str] = frozenset()  # negators kept as words too ("jamais", "no")
    answers: frozenset[str] = frozenset()  # kept negators that answer, add no "¬" ("no")
    clause_breaks: frozenset[str] = frozenset()  # words that close a negation scope ("mais")
    question_tags: frozenset[str] = frozenset()  # "gratuit ou pas ?": "ou" + a final negator
    function_words: frozenset[str] = frozenset()  # never negated, weigh little
    emoji: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # "👍" -> ("ok",)
    je_consonant: bool = False  # "jveux" is "je veux": no French word starts j + consonant
    feminine_ee: bool = False  # "installee" is "installée": drop the e before stemming


FRENCH = Spelling(
    stemmer="french",
    words=_table(
        "jsp,jsaispas,chepa,chepas,chaipa,chaipas,jsepa,chaispas,sepa=je sais pas;"
        "jsais,chais,chai,chsais=je sais; chuis,chui,jsui,jsuis,chu=je suis; sui=suis;"
        "jai,g=je ai; jaime=je aime; jaimerais=je aimerais; jen=je en; jy=je y;"
        "jhesite=je hesite; jetais=je etais; cest=ce est; cetait=ce etait;"
        "koi,kwa,quoa=quoi; pk,pq,pkoi,pourkoi,prk,pkq,pourqoi=pourquoi; ki=qui; ke,k=que;"
        "kan,qd,qand=quand; cmt,cmnt,komen,koment,comant=comment; kom,komme=comme;"
        "kel=quel; kelle=quelle; paske,pask,pcq,psk,pck,parceque=parce que;"
        "keske,kesk=que est ce que; kesako,quesaco,kezako=que est ce que ce est;"
        "tps=temps; bcp,bcq,boucoup=beaucoup; tjs,tjrs,toujour=toujours;"
        "mtn,mnt,maintenan=maintenant; ptet,ptetre,peutetre=peut etre; tro=trop;"
        "tt=tout; tte=toute; ts=tous; pr=pour; ds=dans; vs=vous; ns=nous; ms=mais;"
        "qq=quelque; qqn,qqun=quelqu un; qqch,qqc=quelque chose; bi1=bien; ri1=rien;"
        "dac,dacc,dak,dacor,dacord,daccord=de accord; okay,oki,okok,oke,okey=ok;"
        "ouais,ouai,ouaip,ouep,oue,wai,ui,ouii,ouiii=oui; nan,nn,nop,nonn,nonnn=non;"
        "mrc,mci,mercii,merki,mercy=merci; slt=salut; bjr,bonjours=bonjour; bsr=bonsoir;"
        "cc=coucou;"
        "dsl=desole; svp,stp=svp; pa=pas; jamai,jame=jamais; moa,moua=moi; toa=toi;"
        "alor,alr=alors; dem1=demain; biensur=bien sur; tel=telephone; ordi=ordinateur;"
        "appli,app,applis,apps=application; insta=instagram; fb=facebook;"
        "watsap,whatsap,watsapp,wattsap=whatsapp; msg,mess=message; rdv=rendez vous;"
        "pb,pbm,pblm,prob,prblm=probleme; mdp=mot de passe; pti,ptit=petit;"
        "ptite=petite; ptits=petits; oqp=occupe; vrmt,vraimen=vraiment"
    ),
    elisions={"j": "je", "l": "le", "d": "de", "n": "ne", "m": "me", "t": "te", "s": "se"}
    | {"c": "ce", "qu": "que"},
    negators=_words("pas jamais rien aucun aucune sans"),
    flag_negators=_words("ne"),
    # "je sais plus", "plus de rappels", "je n'en veux plus" are negative; "plus tard" is not
    late_negators=_words("plus"),
    not_after=_words("a au de en un le la les peu encore beaucoup bien trop deux et ou"),
    not_before=_words("tard"),
    kept_negators=_words("jamais rien sans aucun aucune"),
    clause_breaks=_words("mais car parce sinon puis donc"),
    question_tags=_words("ou"),
    function_words=_words(
        "le la les un une des de du au aux en et ou je tu il elle on nous vous ils elles me"
        " te se moi toi lui leur y ce ca cela ceci que est suis es sont ai as a avons"
        " avez ont mon ma mes ton ta tes son sa ses notre nos votre vos pour par sur dans"
        " avec chez si"
    ),
    emoji={"👍": ("ok",), "👌": ("ok",), "✅": ("ok",), "✔": ("ok",), "👎": ("non",)}
    | {"❌": ("non",), "🙏": ("merci",), "🤷": ("je", "sais", "pas")},
    je_consonant=True,
    feminine_ee=True,
)

ENGLISH = Spelling(
    stemmer="english",
    words=_table(
        "idk,idek=i do not know; dunno,dno,duno=do not know; u=you; ur=your; r=are;"
        "y=why; k,kk,okay,oki,okey,okie=ok; ya,yea,yeah,yep,yup,yeh,ye,yas,yess,yesss=yes;"
        "nope,nah,naw,noo,nooo=no; pls,plz,plse,plez=please; thx,thnx,thanx,ty,tks,thks=thanks;"
        "wat,wut,wht=what; whats=what is; cuz,coz,cos,bc,bcoz,becuz,bcos=because;"
        "gonna=going to; wanna=want to; gotta=got to; lemme=let me; gimme=give me;"
        "im=i am; ive=i have; youre=you are; theyre=they are; thats=that is; its=it is;"
        "dont=do not; doesnt=does not; didnt=did not; cant,cannot=can not; wont=will not;"
        "isnt=is not; arent=are not; wasnt=was not; werent=were not; havent=have not;"
        "hasnt=has not; couldnt=could not; wouldnt=would not; shouldnt=should not;"
        "aint=is not; l8r,l8er,ltr=later; 2day=today; 2moro,tmrw,tmr,tomoz,2morrow=tomorrow;"
        "b4=before; gr8=great; msg=message; txt=text; fb=facebook; insta=instagram;"
        "ppl=people; abt=about; hw=how; nvm=never mind; tbh=to be honest; rn=right now;"
        "atm=at the moment; sry,srry,soz=sorry; np=no problem; hv=have; pic,pix=picture;"
        "watsap,whatsap,watsapp=whatsapp; app,apps=application; fone=phone; puter=computer"
    ),
    # what is left of a contraction once the apostrophe is a space: "i m", "don t"
    clitics={"m": "am", "re": "are", "ve": "have", "ll": "will", "d": "would", "s": "is"},
    not_bases={"don": "do", "won": "will", "can": "can", "ain": "is"},
    negators=_words("not no never nothing without none nobody nor"),
    kept_negators=_words("no never nothing without none nobody"),
    answers=_words("no"),  # "no" alone answers; "no time" still negates "time"
    clause_breaks=_words("but because though although"),
    question_tags=_words("or"),
    function_words=_words(
        "the a an of to in on at for with by from and or i you he she we they it me him her"
        " us them my your his its our their this that these those is am are was were be been"
        " do does did have has had will would can could should shall may might must"
    ),
    emoji={"👍": ("ok",), "👌": ("ok",), "✅": ("ok",), "✔": ("ok",), "👎": ("no",)}
    | {"❌": ("no",), "🙏": ("thanks",), "🤷": ("i", "do", "not", "know")},
)

PLAIN = Spelling(stemmer=None)  # a language without a table: words as typed
SPELLINGS: Mapping[str, Spelling] = {"fr": FRENCH, "en": ENGLISH}


def spelling(lang: str) -> Spelling:
    """The rules of `lang`, or plain words for a language without a table."""
    return SPELLINGS.get(lang, PLAIN)
