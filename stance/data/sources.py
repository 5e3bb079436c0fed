"""Every stance data set, one entry each (:data:`SOURCES`): its name, its folder under
``$STANCE_DATA_DIR/stance`` and, for the public sets ``stance data fetch`` downloads, where each file
lives upstream at a pinned commit, its sha256 and size, the normaliser that turns the files into
JSONL, and the licence terms. A new set is one entry here (and its normaliser in
:mod:`stance.data.normalizers`).

Upstream paths are relative to :data:`UPSTREAM` (``owner/repo/commit/path``), so a mirror of
raw.githubusercontent.com, or a folder laid out the same way, can stand in for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stance.data import normalizers

UPSTREAM = "https://raw.githubusercontent.com"


@dataclass(frozen=True)
class RemoteFile:
    """One upstream file: its name in ``original/``, its path under :data:`UPSTREAM`, checksum and size."""

    name: str
    path: str
    sha256: str
    size: int


@dataclass(frozen=True)
class PublicSet:
    """A stance set: its name and folder; a fetchable one also has files, a normaliser and terms.

    ``folder`` (under ``$STANCE_DATA_DIR/stance``) defaults to the name. A set without ``files``
    is read where it lies and never fetched.
    """

    name: str
    files: tuple[RemoteFile, ...] = ()
    normalize: Callable[[normalizers.Files], normalizers.Splits] | None = None
    licence: str = ""
    citation: str = ""
    folder: str = ""
    # columns of its normalised rows holding the annotators' label distribution, in LABELS order
    # (read when a data.train entry sets soft_labels)
    label_probs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.folder:
            object.__setattr__(self, "folder", self.name)

    @property
    def fetchable(self) -> bool:
        """``stance data fetch`` can download it."""
        return bool(self.files) and self.normalize is not None

    @property
    def upstreams(self) -> list[str]:
        """``owner/repo@commit`` of each repository the files come from."""
        repos = (f.path.split("/")[:3] for f in self.files)
        return list(dict.fromkeys(f"{owner}/{repo}@{commit[:8]}" for owner, repo, commit in repos))

    @property
    def download_bytes(self) -> int:
        return sum(f.size for f in self.files)


def _files(root: str, table: dict[str, tuple[str, int]]) -> tuple[RemoteFile, ...]:
    """Files under one upstream folder, each kept in ``original/`` under its own base name."""
    return tuple(
        RemoteFile(path.rsplit("/", 1)[-1], f"{root}/{path}", sha256, size)
        for path, (sha256, size) in table.items()
    )


_SEMEVAL = "lordzuko/Transformer-Stance-Detection/c2889817b317720961b05d19c00c6cd256bcf48d/data"
_ARC = "UKPLab/coling2018_fake-news-challenge/6446c4459b520b7f7713bc66117917e341d899dc/data/fnc-1/corpora/ARC"
_PERSPECTRUM = "CogComp/perspectrum/b42c27b85f20f2a35c0a0895698fa242ccf160ab/data/dataset"
_PSTANCE = (
    "kvssk123/stance-detection-infusing-wiki-knowledge/746a2b3b40471e41dfcbc28e7daf235d01d96279/data/pstance"
)
_GOLD = "semeval2016-task6-testdata-gold"
_FNC1 = "FakeNewsChallenge/fnc-1/29d473af2d15278f0464d5e41e4cbe7eb58231f2"
# upstream train_stances.csv is in no copy we could check; UKP's two 9:1 files hold its 49,972 rows
_FNC1_UKP = (
    "UKPLab/coling2018_fake-news-challenge/6446c4459b520b7f7713bc66117917e341d899dc/"
    "data/fnc-1/corpora/metaclassifier_corpus_9_1"
)

_PSTANCE_FILES = {
    "raw_train_trump.csv": ("e50fe5f9be3f196f158d135e7cd9166eec2e08047100b8f873175af6a4a9372d", 1330924),
    "raw_train_biden.csv": ("5fb6784caa7319751c22bb057b318901513ecb50ff221877a23868e967e6488c", 1107611),
    "raw_train_bernie.csv": ("04bf99d25de6301b8e5e69ecc1b6fdd7036b09c6a603176e330005ff16c1853f", 1062811),
    "raw_val_trump.csv": ("7bbd23bb98eca6259d099f86082ef0f2cfea02f71c816585fa6026515294accf", 173989),
    "raw_val_biden.csv": ("9b7a16f92062ab9960cda3800ab2aa3a56237f8bebb6e3d91bfa8e8d6d4ac4e8", 141634),
    "raw_val_bernie.csv": ("de01ddab716edd5ac468839dcb3697428c4147ec0cffeba4f0b9ba060d99a299", 132306),
    "raw_test_trump.csv": ("885b1401657b3bbf3ff2f31c67306a487741a912fae117ccb536d311995baad6", 161650),
    "raw_test_biden.csv": ("5c309abb246d416c65b12be84aba285b9a615339d6a8bd8b6013213bf953ede6", 141507),
    "raw_test_bernie.csv": ("7738589c155e0d465ccb64a869c3488d261b7e445df92083d86bdf78e6508e25", 132567),
}

SOURCES: dict[str, PublicSet] = {
    s.name: s
    for s in (
        PublicSet(
            name="vast",
            files=(
                RemoteFile(
                    "vast_train.zip",
                    "HITSZ-HLT/JointCL/0aa1f800824734a4dbac08ac29b1782a6344cfd4/datasets/VAST/vast_train.zip",
                    "e8e3639ae80728bf6f14819a0427375a4051356e5163ce1406560b767a35e433",
                    2568655,
                ),
                # upstream's own vast_test.csv is not kept in any reachable copy; this 3-column
                # reduction of it (text, target, label; same 3,006 rows) is
                RemoteFile(
                    "vast_test_text_target_label.csv",
                    "Nanji-Huaji/public-sentiment-analysis/4b8cf2c9962e2043e331ca21fb62d8f565e5cb8d/"
                    "data/csv_data/VAST/test.csv",
                    "69b6e54179955b840e05ffb7c7484e174742daefa7c6938284a67d3daa3f2c73",
                    1833667,
                ),
            ),
            normalize=normalizers.vast,
            licence="No licence stated upstream (emilyallaway/zero-shot-stance has no LICENSE file); "
            "the texts are New York Times reader comments. Research use only.",
            citation="Allaway & McKeown, Zero-Shot Stance Detection, EMNLP 2020",
        ),
        PublicSet(
            name="semeval2016",
            files=_files(
                _SEMEVAL,
                {
                    "semeval2016-task6-trainingdata.txt": (
                        "4b88cb474a2e8ba1c2d02e407c36b369a8b7ee8dc8cf03d95f85bcabdf41a8c6",
                        394277,
                    ),
                    f"{_GOLD}/SemEval2016-Task6-subtaskA-testdata-gold.txt": (
                        "a7a70dfb4ef0976634c36415cd1fa47df0d71175c7a624bccb53a6ecb30dc3f0",
                        178196,
                    ),
                    f"{_GOLD}/SemEval2016-Task6-subtaskB-testdata-gold.txt": (
                        "494f51ad9ad7b548a1d675226dd8c2481a5083ca5bc77bbbfa5e21d6ee7fcf13",
                        94236,
                    ),
                },
            ),
            normalize=normalizers.semeval2016,
            folder="semeval2016_task6",
            licence="NRC terms: research use; cite the paper; do not redistribute the data (direct "
            "others to http://www.saifmohammad.com/WebPages/StanceDataset.htm).",
            citation="Mohammad et al., SemEval-2016 Task 6: Detecting Stance in Tweets, SemEval 2016",
        ),
        PublicSet(
            name="arc",
            files=_files(
                _ARC,
                {
                    "arc_bodies.csv": (
                        "a13f62cf28248e00a7ccaba8be3c29619eac2f1185465ff83158e0fafa1235d1",
                        2592694,
                    ),
                    "arc_stances_train.csv": (
                        "fde51ffbd30ae9f09118e48d289241a0f08f623d9c361e60e4220fe8c3c46f49",
                        780585,
                    ),
                    "arc_stances_test.csv": (
                        "2390dc812b55a24b850d84f9afebccd938b6d076e27295e8e50643fbfeaebf01",
                        194035,
                    ),
                },
            ),
            normalize=normalizers.arc,
            licence="No data licence stated (the repository's code is Apache-2.0); the texts are New "
            "York Times 'Room for Debate' reader posts. Research use only.",
            citation="Hanselowski et al., A Retrospective Analysis of the Fake News Challenge "
            "Stance-Detection Task, COLING 2018",
        ),
        PublicSet(
            name="perspectrum",
            files=_files(
                _PERSPECTRUM,
                {
                    "perspectrum_with_answers_v1.0.json": (
                        "39d0391d26ebe21efb1cc3162abcc3c4212d2eadfb07514129c3015d6f6ae1f1",
                        896802,
                    ),
                    "perspective_pool_v1.0.json": (
                        "d4d4e78c4777ea971d26546a8819aa9e02c5a68ffff45e10b40ca0cb91b43ae4",
                        1297468,
                    ),
                    "dataset_split_v1.0.json": (
                        "5ba5296f6e5956c44a2fd014b15a3f7c10b9a253451162932acaf217f20cd7da",
                        13912,
                    ),
                    "license.txt": (
                        "e74cf0a67a45f86f07464dbd5cb1333bea2e24bfcb4551044c5e3943a4bd04aa",
                        20558,
                    ),
                },
            ),
            normalize=normalizers.perspectrum,
            licence="CC BY-SA 4.0 (the full text is fetched as original/license.txt): attribute, "
            "share adaptations under the same licence.",
            citation="Chen et al., Seeing Things from a Different Angle: Discovering Diverse "
            "Perspectives about Claims, NAACL 2019",
        ),
        PublicSet(
            name="fnc1",
            files=(
                *_files(
                    _FNC1,
                    {
                        "train_bodies.csv": (
                            "f1960cf7aa6972a9308aedbd3b393ab773893604d7d323378b75f66112f0c27a",
                            3752301,
                        ),
                        "competition_test_bodies.csv": (
                            "60c9eeb15b904764d2e6512eaea31c6edf148206867284a281e11c29c9919046",
                            2045680,
                        ),
                        "competition_test_stances.csv": (
                            "39d5c2572e61d2f65116fdd20183aeff533abaf26134078966c337e6a8ec3329",
                            2177588,
                        ),
                    },
                ),
                RemoteFile(
                    "ukp_train_train_stances_9_1.csv",
                    f"{_FNC1_UKP}/train_train_stances.csv",
                    "8b313d0a97de94669f12e894da0b72d7f7a5c4dbb4b978c6c59f581019bd4f2a",
                    3832204,
                ),
                RemoteFile(
                    "ukp_train_test_stances_9_1.csv",
                    f"{_FNC1_UKP}/train_test_stances.csv",
                    "da03ca7af7121dd4bba50913e8bc55f9bdb9ff6df1226eaa0b29dba6d73d30bb",
                    423120,
                ),
            ),
            normalize=normalizers.fnc1,
            licence="No licence stated upstream (FakeNewsChallenge/fnc-1 has no LICENSE file); the "
            "bodies are news articles collected for Emergent. Research use only.",
            citation="Pomerleau & Rao, Fake News Challenge Stage 1 (FNC-1), 2017; "
            "Hanselowski et al., COLING 2018 (the 9:1 split files)",
        ),
        PublicSet(
            name="pstance",
            files=_files(_PSTANCE, _PSTANCE_FILES),
            normalize=normalizers.pstance,
            licence="No data licence stated (the authors' repository chuchun8/PStance is MIT for code "
            "and hands the data out separately; this is a copy in a fork). Tweets: research use only.",
            citation="Li et al., P-Stance: A Large Dataset for Stance Detection in Political Domain, "
            "Findings of ACL 2021",
        ),
        PublicSet(
            name="ibm_claim_stance",
            files=(
                RemoteFile(
                    "claim_stance_dataset_v1.csv",
                    "nicobari30/argumentativeRelationClaimPolarityDataset/"
                    "02058a8116c873b7672fae1613c97e768ffc00c5/claim_stance_dataset_v1.csv",
                    "4742382728d81a65a69f54029c45f4a21e46e150350c8d686ecf487f38b5bb0c",
                    1125803,
                ),
            ),
            normalize=normalizers.ibm_claim_stance,
            licence="CC BY-SA 3.0, (c) Copyright IBM 2014; the claims are Wikipedia text "
            "(c) Wikipedia contributors.",
            citation="Bar-Haim et al., Stance Classification of Context-Dependent Claims, EACL 2017",
        ),
        PublicSet(
            name="gwsd_desmog",
            files=(
                RemoteFile(
                    "GWSD.tsv",
                    "yiweiluo/GWStance/7c448113a598830d3577615f48fdeab2383147ca/GWSD.tsv",
                    "ebac0a1abf7e38a7708c7f8d0e699e0c7117a716a30d8befb0ca5d0e1e259c12",
                    587406,
                ),
            ),
            normalize=normalizers.gwsd,
            label_probs=("p_agree", "p_disagree", "p_neutral"),
            licence="No licence stated upstream (yiweiluo/GWStance has no LICENSE file); sentences "
            "from US news media. Research use only.",
            citation="Luo, Card & Jurafsky, Detecting Stance in Media on Global Warming, "
            "Findings of EMNLP 2020",
        ),
        # read where it lies: it is not fetched (no config uses it)
        PublicSet(name="tweeteval", folder="tweeteval_stance"),
    )
}
"""Every stance set by the name configs use; :func:`fetchable_sets` are those with files upstream."""


def fetchable_sets() -> dict[str, PublicSet]:
    """The sets ``stance data fetch`` can download, by name."""
    return {name: dataset for name, dataset in SOURCES.items() if dataset.fetchable}
