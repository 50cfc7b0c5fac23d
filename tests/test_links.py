"""The link decision (engines/local.measure_pairs): when shared text counts as reuse."""

from __future__ import annotations

from wiretrace.engines.local import run_articles
from wiretrace.model import Article

STORIES = {
    "port": [
        "Harbour officials in Selvik said on Monday that container traffic rose 14 percent in March.",
        "The port handled 182,000 containers, its busiest month since the terminal opened in 2009.",
        "Shipping lines added two weekly services to Baltic ports, the harbour master told reporters.",
        "Dock workers agreed a new shift pattern after talks that lasted three weeks.",
        "The authority plans to dredge the eastern basin next year to admit larger vessels.",
        "Rail links to the terminal will double by 2027 under a plan approved by the council.",
    ],
    "dairy": [
        "Farmers in the Ostmark valley reported that milk prices fell for a fifth straight month.",
        "The cooperative paid 31 cents a litre in April, down from 38 cents a year earlier.",
        "Feed costs climbed after a dry winter cut the hay harvest across the western hills.",
        "Several small herds were sold at auction as owners struggled to cover their loans.",
        "The agriculture minister promised emergency credit lines for family farms next week.",
        "Dairy exports to neighbouring markets held steady despite the lower domestic price.",
    ],
    "bridge": [
        "Engineers closed the Varna river bridge on Friday after cracks appeared in two pillars.",
        "Traffic was diverted through the old town, adding forty minutes to commuter journeys.",
        "The bridge, built in 1974, carries about 52,000 vehicles on a typical weekday.",
        "Inspectors will use divers to examine the foundations once the river level drops.",
        "The transport ministry said repairs could take until the end of the autumn.",
        "Local businesses on the southern bank warned that the closure would cost them customers.",
    ],
}
OWN = [
    "The evening market on Linden Square reopened with forty stalls after the winter break.",
    "A choir from the music school performed at the opening under coloured lanterns.",
    "Organisers said visitor numbers were higher than expected despite the cold wind.",
    "Stallholders sold honey, smoked fish, woollen hats and hand-carved spoons.",
    "The square will host a jazz evening every Thursday until the end of June.",
    "Parking near the square remains limited while the new garage is being built.",
    "The council thanked volunteers who cleaned the fountains before the opening.",
]


def _story_articles() -> list[Article]:
    articles = []
    for name, sentences in STORIES.items():
        articles.append(Article(id=f"{name}-wire", text=" ".join(sentences), outlet="Reuters"))
        articles.append(Article(id=f"{name}-copy", text=" ".join(sentences[:5]), outlet="Daily"))
    return articles


def _families(articles: list[Article]) -> dict[str, set[str]]:
    result = run_articles(articles)
    members: dict[int, set[str]] = {}
    for article, family in zip(articles, result.lineage.family.tolist()):
        members.setdefault(family, set()).add(article.id)
    return {article.id: members[f] for article, f in zip(articles, result.lineage.family.tolist())}


def test_an_outlet_borrowing_one_sentence_joins_the_story():
    borrowed = STORIES["port"][1]
    borrower = Article(
        id="borrower", text=" ".join(OWN[:3] + [borrowed] + OWN[3:]), outlet="Gazette"
    )
    families = _families(_story_articles() + [borrower])
    assert "port-wire" in families["borrower"]


def test_a_borrowed_sentence_with_other_figures_is_not_reuse():
    altered = STORIES["port"][1].replace("182,000", "164,500")
    borrower = Article(
        id="borrower", text=" ".join(OWN[:3] + [altered] + OWN[3:]), outlet="Gazette"
    )
    families = _families(_story_articles() + [borrower])
    assert families["borrower"] == {"borrower"}


def test_a_text_matching_single_sentences_of_three_stories_joins_none():
    picked = [STORIES["port"][1], STORIES["dairy"][1], STORIES["bridge"][2]]
    digest = Article(
        id="digest",
        text=" ".join(OWN[:2] + picked[:1] + OWN[2:4] + picked[1:2] + OWN[4:] + picked[2:]),
        outlet="Roundup",
    )
    families = _families(_story_articles() + [digest])
    assert families["digest"] == {"digest"}
    # the stories themselves are untouched
    assert families["port-copy"] == {"port-wire", "port-copy"}
