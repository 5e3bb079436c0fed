"""Word lists for the quote splitter: reporting cues, titles, role nouns, non-name words."""

from __future__ import annotations

# Reporting words that attribute a quote ("said", "told", "tweeted").
CUE_VERBS = frozenset(
    """
    accused acknowledge acknowledged acknowledges add added adding adds admit admits admitted
    agreed alleged announce announced announces answered argue argued argues arguing ask asked
    asking asks asserted asserts assured began believes blasted boasted called calls cautioned
    chanted charged chimed claim claimed commented claiming claims complained conceded conclude
    concluded concludes confirmed contend contended contends continued continues countered
    criticised criticized declare declared declares declaring demanded denied derided
    described describes disagreed dismissed elaborated emailed emphasised emphasized
    emphasizing exclaimed explain explained explaining explains highlighted hinted informed
    insist insisted insisting insists joked jokes lamented maintained maintains messaged
    mocked mused note noted notes noting objected observe observed observes opined pleaded
    pledged pointed posted posts praised predict predicted predicts pressed proclaimed
    promised protested quipped read reads recall recalled recalling recalls recounted
    reiterated remarked remembered reminded replied replies reply reported reports respond responded
    responds retorted said sang say saying says scoffed screamed shouted signaled signalled
    slammed sniped stated states stating stress stressed stresses stressing suggest suggested
    suggesting suggests tell telling tells testified testifies texted thinks thundered told
    tweet tweeted tweeting tweets underlined underscored urged urges vowed warn warned warning
    warns whispered wonder wondered write writes writing wrote yelled
    """.split()
)

# As often nouns as verbs ("phone calls", "his claims"): cues only next to a mention or quote.
NOUN_LIKE_CUES = frozenset(
    """
    answers calls claim claims note notes posts read reads remarks replies reports states
    tweet tweets
    """.split()
)

# Cues whose speaker is the subject of the clause they hang from ("Lavrov ..., saying ...").
PARTICIPLE_CUES = frozenset(
    """
    adding answering arguing asking claiming declaring emphasizing explaining insisting joking
    noting pointing pressing recalling replying responding saying stating stressing suggesting
    telling tweeting warning whispering writing
    """.split()
)

PRONOUNS = {"he": "m", "she": "f", "they": None, "i": None, "we": None, "it": None}

# Lower-case parts of personal names, kept inside the name ("da Silva", "van der Leyen", "al-Rashid").
PARTICLES = frozenset(
    "al bin bint da das de del della der des di dos du el ibn la le ten ter van von".split()
)

# Abbreviations whose full stop does not end a sentence ("Mr.", "Sept.", "U.S.").
ABBREVIATIONS = tuple(
    """
    Mr Mrs Ms Dr Sen Sens Rep Reps Gov Govs Gen St Lt Col Rev Jr Sr Prof Capt Sgt Adm Hon Mt Ft No
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Inc Corp Co vs etc U.S U.N U.K D.C
    """.split()
)

# Words that open a nominal mention ("the minister", "a senior official").
DETERMINERS = frozenset(
    """
    a an another both her his its many my one other our several some that the their this three
    two
    """.split()
)

# Titles and honorifics, stripped from canonical names ("Foreign Minister", "Dr.").
TITLES = frozenset(
    """
    acting adm admiral adviser advisor aide ambassador analyst anchor assemblyman
    assemblywoman attorney ayatollah bishop campaign candidate capt captain cardinal ceo chair
    chairman chairwoman chancellor chief co-founder coach col colonel commissioner congressman
    congresswoman consul councilman councilwoman dame defence defense delegate democratic
    deputy detective director doctor dr dr. economist economy envoy executive fellow finance
    foreign former founder gen general gop gov governor govs health hon host house imam incoming
    interim interior judge justice king labor lady lawyer leader lieutenant lord lt major
    majority manager mayor minister minority miss mr mr. mrs mrs. ms ms. new nominee officer
    outgoing pastor pollster pope premier president presidential press prime prince princess
    prof professor queen rabbi rep representative republican reps rev secretary sen senate senator sens
    senior sergeant sgt sheikh sheriff sir speaker spokesman spokesperson spokeswoman state
    strategist supreme then then-candidate top trade u.s us vice
    """.split()
)

# Words that never head or sit inside a nominal speaker mention.
FUNCTION_WORDS = frozenset(
    """
    about after again also always and are as at be because been before being but by can could
    did do does even for from had has have here if in into is it just may might must never no
    nor not now of often on only or over should so still than that then there through to too
    very was were what when where which while who whom will with would
    """.split()
)

# Heads of nominal speakers: "the minister said", "a senior official told".
ROLE_NOUNS = frozenset(
    """
    activist activists administration adviser advisers advisor advisors agency aide aides
    ambassador analyst analysts attorney author authorities authors billionaire brother
    businessman businesswoman campaign candidate chairman chairwoman chancellor chief
    commander commentator committee company congressman congresswoman conservative
    conservatives council counterpart critic critics daughter democrat democrats department
    diplomat diplomats director doctor economist economists employee employees envoy executive
    expert experts father firm founder friend general government governor group host husband
    insider insiders investigators judge king kremlin lawmaker lawmakers lawyer leader leaders
    letter liberal liberals magazine man manager mayor member members memo minister ministers
    ministry mogul mother network newspaper nominee nominees observer observers officer
    officers official officials opponent opponents organization organizer organizers owner
    paper party pastor
    pentagon people person police poll pollster premier president priest professor prosecutor
    prosecutors protester protesters queen relative relatives report reporter representative
    republican rival rivals
    republicans researcher researchers resident residents scientist scientists secretary
    senator sister son source sources speaker spokesman spokesperson spokeswoman statement
    strategist student students study supporter supporters survey teacher team veteran voter
    voters website white wife woman worker workers
    """.split()
)

# Titles that tell a person's gender, for pronoun resolution.
GENDER_TITLES = {
    "mr": "m",
    "mrs": "f",
    "ms": "f",
    "miss": "f",
    "sir": "m",
    "lady": "f",
    "king": "m",
    "queen": "f",
    "congressman": "m",
    "congresswoman": "f",
    "spokesman": "m",
    "spokeswoman": "f",
    "chairman": "m",
    "chairwoman": "f",
    "prince": "m",
    "princess": "f",
    "businessman": "m",
    "businesswoman": "f",
}

# Capitalised verbs and possessives that are never a word of a name, wherever they stand ("My
# Patients Were Presidents" is a book's title, "Having said that," no speaker).
NEVER_NAME_WORDS = frozenset(
    "Added Adding Are Had Has Have Having Is Let My Noted Says Was Were Wrote Your".split()
)

# "Said" opens a sentence as its cue ("Said Ellis: …"), yet ends a name ("Edward Said").
OPENING_CUES = frozenset({"Said"})

# Capitalised words that start sentences or name dates, never part of a person's name.
NON_NAME_WORDS = NEVER_NAME_WORDS | frozenset(
    """
    A According After Against All Also Although Among An And Another April As Asked At August
    Because Before Both But By December Despite Did Do Does Dr During Each Earlier Even Every
    February For Friday From He Her Here His How However I If In Instead It Its January July
    June Just Last Later Like Many March May Meanwhile Monday Most Mr Mrs Ms Next No Not
    November Now October Of On Once One Only Or Other Our Over Saturday September She Since So
    Some Speaking Still Such Sunday That The Their Then There These They This Those Though
    Three Thursday To Today Tuesday Two Under Unlike Until We Wednesday What When Where
    Whether Which While Who Why With Within Without Writing Yes Yesterday Yet
    """.split()
)

# Words that mark a capitalised run as a place or organisation, not a person.
ORG_WORDS = frozenset(
    """
    Accord Act Action Administration Africa Agency Agreement Airport Alliance America
    Americans Army Asia Assembly Association Avenue Bank Bay Brigade Building CNN Campaign
    Capitol Caucasus Center Centre Church City Club Coalition College Commission Committee
    Company Conference Congress Convention Corp Corporation Council County Court Daily Day
    Deal Democrats Department East Empire Europe Facebook Federation Force Forces Forum
    Foundation Fox Front Fund Government Group Guard Gulf Hall Herald Hospital House Inc
    Institute Island Islands Journal Kingdom Kremlin Lake League Lives Magazine Matter Media
    Ministry Month Mountains Movement Nations Navy Network News North Ocean Office
    Organisation Organization Parenthood Parliament Party Pentagon Plan Police Post Press
    Program Programme Province Radio Region Republic Republicans Reuters Review Revolution
    River School Sea Security Senate Service Services South Square State States Station Street
    Summit TV Television Times Tower Treaty Tribune Twitter Union University Valley Wall Week
    Weekly West Year
    Arabia Bakery Bar Cafe Café Emirates Fair Festival Gallery Hotel Korea Lanka Library Mall
    Market Museum Park Restaurant Rica Shop Stadium Store Theater Theatre Zealand
    """.split()
)

# Speakers named by a bare collective noun ("police said", "staff said").
COLLECTIVE_SPEAKERS = frozenset("military police staff".split())

# Common female first names in US political news, for pronoun gender when no title says it.
FEMALE_FIRST = frozenset(
    """
    amy angela anna ashley barbara carly catherine chelsea christine condoleezza debbie diane
    donna elizabeth emily emma gloria helen hillary hope huma ivanka jacinda janet jennifer
    jessica jill judy julia kamala karen kate katie kellyanne kristen laura linda lisa loretta
    maggie margaret maria marine mary megyn melania michelle nancy nikki olivia patricia paula
    rachel rebecca ruth sally samantha sarah sheryl sophia susan theresa tulsi ursula
    """.split()
)

# Words between a speaker and its cue ("Jalali also said", "Lavrov has repeatedly told").
BETWEEN_SPEAKER_AND_CUE = frozenset(
    """
    again also angrily bluntly did does earlier famously flatly frankly further had has have is
    just later often once previously privately publicly quickly recently reportedly repeatedly
    simply then told was will would
    """.split()
)

# Words right after a cue that show no speaker follows ("said that", "told it", "said in").
NOT_A_SPEAKER_AFTER_CUE = frozenset(
    """
    about also at for i in it no of on only so that there they this to we with yes you
    """.split()
)

# Lower-case words that end a nominal speaker after a cue ("said the minister in Moscow").
NOMINAL_STOP = frozenset(
    """
    after and at before but during in last on that this to told when which while who with
    """.split()
)

# Words that open an adverbial before a clause's subject ("At the UN on Sept. 25, Lavrov ...").
CLAUSE_OPENERS = frozenset(
    """
    addressing after amid asked at before despite during earlier however in last later meanwhile
    on speaking still when while with writing
    """.split()
)

# Documents whose words are quoted ("in a statement", "the letter reads").
DOCUMENT_NOUNS = frozenset("email interview letter memo post report speech statement tweet".split())

# Reporting words that introduce reported speech without quote marks, besides CUE_VERBS
# ("expressed concern that ...", "condemned the sanctions").
REPORTED_EXTRA_CUES = frozenset(
    """
    believe believed believes cited condemned denounced estimate estimated estimates expect
    expected expects expressed feel feels felt find finds found hope hoped hopes indicated
    indicates know knew knows mentioned questioned rejected show showed shows think thought
    voiced welcomed
    """.split()
)

# Verbs whose infinitive complement is a stated intention or demand ("She wants to triple ...").
INTENTION_CUES = frozenset(
    """
    called demanded hope hoped hopes intend intends plan planned plans pledged promised promises
    refused refuses threatened urged vow vowed vows want wanted wants
    """.split()
)

# Cues whose object is the statement itself ("Lavrov criticized the sanctions").
OBJECT_STATEMENT_CUES = frozenset(
    """
    accused attacked blasted cited condemned criticised criticized denied denounced mentioned
    mocked praised questioned rejected slammed welcomed
    """.split()
)

# Words and phrases that, right before a quotation mark, make it a title, name or label rather
# than speech ("the so-called “deal”", "the book “Fire and Fury”"); stance.quotes.cues adds the
# possessive ("Trump's “…”").
NOT_SPEECH_BEFORE = (
    "so-called", "so called", "dubbed", "nicknamed", "titled", "entitled", "named", "known as",
    "the word", "the words", "the term", "the phrase", "the slogan", "the hashtag", "the book",
    "the film", "the movie", "the song", "the show", "the album", "the article", "the report",
    "the play", "the series", "the program", "the campaign", "branded", "labeled", "labelled",
    "headlined", "a sign reading", "signs reading", "marked", "read", "reads", "reading", "show",
    "program", "programme", "book", "series", "film", "movie", "column", "hosts of", "op-ed",
    "editorial", "ad", "initiative", "project",
)  # fmt: skip

# Small words a title leaves in lower case ("Fire and Fury", "The Art of the Deal").
TITLE_SMALL_WORDS = frozenset("of the a an and in on to for at with &".split())

# The small words the mention and name rules read, each set as the rule it serves was measured
# with (stance/quotes/mentions.py, entities.py, attribution.py); they overlap but are not one list.
# "in a statement": the article before a document noun.
INDEFINITE_ARTICLES = frozenset("a an".split())
# Pronouns that tell a gender, so a known person can be found for them (from PRONOUNS).
GENDERED_PRONOUNS = frozenset(word for word, gender in PRONOUNS.items() if gender)
# Lower-case words inside a speaker's title and name ("Secretary of State", "Ambassador to Moscow").
MENTION_LINKS = frozenset("of to".split())
# Lower-case words inside a capitalised run read as one name ("Minister for Foreign Affairs").
NAME_RUN_LINKS = frozenset("of to for".split())
# The word before a place inside a title ("to Moscow", "of State"), cut from the name after it.
TITLE_PLACE_LINKS = frozenset("to of for at".split())
# Words that end the role of an appositive ("Ola Berg, an economist at the bank,").
APPOSITIVE_STOPS = frozenset("at of for in".split())
# Lower-case role words after a cue stop at these ("said chief economist Ola Berg" reads on).
ROLE_AFTER_CUE_STOPS = NOMINAL_STOP | frozenset("of for it".split())
# Endings of role nouns not in ROLE_NOUNS ("columnist", "historian", "researcher", "director").
ROLE_SUFFIXES = ("ist", "ian", "er", "or")
# Endings cut from a demonym or possessive to find its place ("Iranian" -> "Iran"), longest first.
DEMONYM_SUFFIXES = ("ian", "ese", "ish", "an", "i", "s")

# Cues that name a thing rather than report what someone said ("the deal, known as the JCPOA"):
# a content the tagger attaches to one of them is not a statement.
NAMING_CUES = frozenset({"known as", "also known as", "dubbed", "nicknamed", "so-called", "referred to as"})

# Labels that open a paragraph with a colon but name no speaker ("UPDATE: …", "WATCH: …"): a
# transcript's turns are never these (stance.quotes.transcript).
NOT_SPEAKER_LABELS = frozenset(
    {
        "ADVERTISEMENT",
        "AUDIO",
        "BACKGROUND",
        "BOTTOM LINE",
        "BREAKING",
        "CLARIFICATION",
        "CORRECTION",
        "DETAILS",
        "EARLIER",
        "EDITOR'S NOTE",
        "EDITOR’S NOTE",
        "EDITORS NOTE",
        "GO DEEPER",
        "LISTEN",
        "NOTE",
        "PHOTO",
        "PHOTOS",
        "PREVIOUSLY",
        "READ MORE",
        "RELATED",
        "SOURCE",
        "SOURCES",
        "TRANSCRIPT",
        "UPDATE",
        "UPDATED",
        "VIDEO",
        "WATCH",
        "WHY IT MATTERS",
    }
)
