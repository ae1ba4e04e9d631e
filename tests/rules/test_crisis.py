"""Crisis detection over the shipped config/crisis.toml: what must raise an alert and what must not.

A safety feature: every positive here is a message a moderator must see at once; every
negative an everyday idiom that must not page anyone.
"""

from __future__ import annotations

import pytest

from server.rules.crisis import compile_detector, fold, fold_any
from server.settings import ConfigError, load_crisis_settings, load_settings

DETECTOR = load_crisis_settings().detector

POSITIVE = [
    # English: suicide
    "I want to end it all",
    "thinking about killing myself",
    "I want to die",
    "I just wanna die",
    "I don't want to live anymore",
    "I'm going to kill myself tonight",
    "I’m going to kill myself",  # a typographic apostrophe
    "Can't stop thinking about killing myself!!!",
    "KILL MYSELF",
    "I wish I was dead",
    "everyone would be better off without me",
    "honestly I'd be better off dead",
    "I feel suicidal again",
    "I keep thinking about suicide",
    "There's no reason to live",
    "I have nothing to live for",
    "I'm going to take my own life",
    "I want to end my life",
    "I can't go on anymore",
    "i cant go on like this",
    "I'm going to hang myself",
    "I want to jump off a bridge",
    "I don't want to wake up tomorrow",
    "Life isn't worth living",
    "I don't wanna be alive anymore",
    "I won't be here tomorrow",
    "I'm thinking of ending it all.",
    "I want to die, my hair is the least of it",
    "i'm going to shoot myself",
    # English: self-harm
    "I've been cutting myself again",
    "I want to hurt myself",
    "I want to self-harm",
    "thinking about harming myself",
    "I want to slit my wrists",
    # English: overdose
    "I took too many pills",
    "I took a whole bottle of pills",
    "I swallowed all my pills",
    "I think I overdosed",
    "I'm planning to overdose",
    "just took 30 tablets",
    "I used way too much fentanyl",
    "I've been saving up my pills",
    # English: warning signs
    "nobody would miss me",
    "I just don't want to exist",
    "I wrote a suicide note",
    "I'm a burden to everyone",
    # Spanish
    "quiero morir",
    "Me quiero morir",
    "Quiero matarme",
    "voy a suicidarme",
    "No quiero vivir más",
    "me voy a quitar la vida",
    "Tomé demasiadas pastillas",
    "Quiero hacerme daño",
    "pienso mucho en el suicidio",
    "estaría mejor muerta",
    "ya no quiero seguir viviendo",
    "quiero cortarme",
    "Nadie me extrañaría",
]

NEGATIVE = [
    "this workout is killing me",
    "I killed it at my interview",
    "end of the day",
    "dying to see the new movie",
    "my feet are killing me",
    "that joke killed me",
    "I'm dead tired",
    "my phone died",
    "I could kill for a coffee",
    "let's kill some time before group",
    "I'm dying of laughter",
    "I took my pills this morning",
    "I took a pill for my headache",
    "took 2 tablets for the cramps",
    "the steak was overdone",
    "we should end the meeting early",
    "it was the end of an era",
    "I'm hanging out with friends tonight",
    "hang in there, everyone",
    "I want to jump in the pool",
    "scared to death of spiders",
    "bored to death in traffic",
    "she's a die hard fan",
    "shoot me a text later",
    "drop dead gorgeous dress",
    "the deadline is tomorrow",
    "my plant is dying",
    "I'm dead serious about staying sober",
    "I want to live my best life",
    "I cut the onions for dinner",
    "I hurt my back at the gym",
    "killer workout today",
    "murder mystery night was fun",
    "I want to end my shift early",
    "I want to die my hair blue",
    "I taught the skill myself",
    "we killed it at trivia night",
    "I almost died laughing",
    "overtime is killing my weekend",
    "cutting back on caffeine",
    "taking my meds as prescribed",
    "I'm dying to know what happens",
    "I can go on a walk later",
    "I'll be here tomorrow for group",
    "I took too much time off work",
    "I ate way too much pizza",
    "I'm saving up for a car",
    "my pills are in the cabinet",
    "I miss everyone from group",
    # Spanish
    "me muero de risa",
    "me muero de hambre",
    "quiero vivir mi vida",
    "se murió mi teléfono",
    "tomé mis pastillas esta mañana",
    "este entrenamiento me está matando",
    "voy a cortarme el pelo",
]


def test_the_tables_are_big_enough() -> None:
    assert len(POSITIVE) >= 40 and len(NEGATIVE) >= 40


@pytest.mark.parametrize("text", POSITIVE)
def test_a_crisis_signal_is_caught(text: str) -> None:
    assert DETECTOR.detect(text) is not None, text


@pytest.mark.parametrize("text", NEGATIVE)
def test_an_everyday_idiom_is_not(text: str) -> None:
    assert DETECTOR.detect(text) is None, (text, DETECTOR.detect(text))


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("I DON’T Want", "i dont want"),
        ("Hacerme daño, ¿sí?", "hacerme dano . si ."),
        ("self-harm...again", "self harm . again"),
        ("  spaced\tout\nlines ", "spaced out . lines"),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded


@pytest.mark.parametrize("text", [t for t in POSITIVE + NEGATIVE if t.isascii()] + ["a_b ..x,, y", "it's 3.5 `ok`"])
def test_the_fast_ascii_fold_agrees_with_the_general_one(text: str) -> None:
    assert fold(text) == fold_any(text)


def test_a_phrase_never_spans_two_sentences() -> None:
    detector = compile_detector({"en": {"phrases": ["end it all"]}})
    assert detector.detect("Let's end it. All of us agree") is None
    assert detector.detect("I want to END IT ALL") is not None


def test_the_match_names_language_and_rule_not_the_text() -> None:
    match = DETECTOR.detect("¡Quiero morir!")
    assert match is not None and match.language == "es" and match.rule == "quiero morir"


def test_bad_configuration_is_refused_at_load(tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    (tmp_path / "crisis.toml").write_text("[detection.en]\npatterns = ['(unclosed']\n")
    with pytest.raises(ConfigError):
        load_crisis_settings(tmp_path)
    (tmp_path / "crisis.toml").write_text("[detection.en]\nphrase = ['typo in the key']\n")
    with pytest.raises(ConfigError):
        load_crisis_settings(tmp_path)
    assert not compile_detector({}).detect("I want to die")


def test_settings_carry_the_detector_and_the_escalation_delay() -> None:
    settings = load_settings({"ALONGSIDE_ENV": "test", "ESCALATE_AFTER_MINUTES": "0.5"})
    assert settings.crisis.escalate_after_minutes == 0.5
    assert settings.crisis.detector.detect("quiero morir") is not None
    assert load_settings({"ALONGSIDE_ENV": "test"}).crisis.escalate_after_minutes == 5
    with pytest.raises(ConfigError):
        load_settings({"ALONGSIDE_ENV": "test", "ESCALATE_AFTER_MINUTES": "0"})
