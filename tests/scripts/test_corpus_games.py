"""scripts/corpus_sources/games.py: the dialogue readers, on small game data trees written here.

The trees copy the layout and the quirks of the Debian packages (the talk
topics and snippets of Cataclysm: DDA, FreedroidRPG's Lua dialogues,
Adonthell's Python dialogues, Dink Smallwood's scripts), so no package is
needed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))
from corpus_sources import games  # noqa: E402


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def write_json(path: Path, objects: list[dict]) -> None:
    write(path, json.dumps(objects, indent=2))


# --------------------------------------------------------------------------
# The line filter shared by all readers
# --------------------------------------------------------------------------
def test_a_line_keeps_its_words_and_loses_markup_and_menu_prefixes():
    assert games.clean_line("  How are   you\n doing? ") == "How are you doing?"
    assert games.clean_line("[INT 8] You look like you could use a hand.") == "You look like you could use a hand."
    assert games.clean_line("That is [b]very[/b] kind of you.") == "That is very kind of you."
    assert games.clean_line("I'm 100% sure.") == "I'm 100% sure."


def test_a_line_the_game_fills_in_at_run_time_is_dropped():
    for line in ("Nice to meet you, %s.", "You have %d circuits.", "Hello, $name!", "Hi <npc_name>.",
                 "Bring me {item}.", "...", ""):
        assert games.clean_line(line) is None, line


# --------------------------------------------------------------------------
# Cataclysm: Dark Days Ahead
# --------------------------------------------------------------------------
def cdda_tree(root: Path) -> Path:
    write_json(root / "json" / "snippets" / "fill.json", [
        {"type": "snippet", "category": "<name_g>", "text": ["friend", "pal"]},
        {"type": "snippet", "category": "<swear>", "text": ["darn"]},
        {"type": "snippet", "category": "<greet>", "text": ["Hey <name_g>, good to see you."]},
        {"type": "snippet", "category": "note", "text": [
            "I left the keys under the mat.",
            {"id": "note_2", "text": "Gone to the store, back at six."}]},
        {"type": "snippet", "category": "city_names", "text": ["Springfield"]},
    ])
    write_json(root / "json" / "npcs" / "TALK_FARMER.json", [
        {"type": "talk_topic", "id": "TALK_FARMER",
         "dynamic_line": {"u_male": True, "yes": "Morning, sir.", "no": "Morning, ma'am."},
         "responses": [
             {"text": "<greet>", "topic": "TALK_DONE"},
             {"text": "[PERSUADE] Could you spare some eggs?", "topic": "TALK_EGGS"},
             {"truefalsetext": {"true": "Here is the money.", "false": "I can't pay yet.",
                                "condition": {"u_has_cash": 100}}, "topic": "TALK_DONE"},
             {"text": "What the <swear> is this?", "topic": "TALK_DONE"},
         ]},
        {"type": "talk_topic", "id": "TALK_EGGS",
         "dynamic_line": {"u_has_var": "eggs_given", "yes": "I gave you eggs already.",
                          "no": {"str": "Take a dozen, <name_g>."}},
         "responses": [{"text": "Thanks.", "topic": "TALK_DONE"}]},
    ])
    write_json(root / "json" / "npcs" / "TALK_TEST.json", [
        {"type": "talk_topic", "id": "TALK_TEST", "dynamic_line": "This is a test response."}])
    write_json(root / "json" / "items" / "armor.json", [
        {"type": "ARMOR", "id": "jeans", "name": {"str": "jeans"},
         "description": "A pair of blue jeans with two deep pockets."},
        {"type": "GUN", "id": "rifle", "description": "A bolt-action rifle chambered for a large round."},
        {"type": "ARMOR", "id": "hat", "description": "A hat."},
        {"type": "TOOL", "id": "list", "description": {"str": "A shopping list, written in pencil."}},
    ])
    write_json(root / "mods" / "farm" / "talk.json", [
        {"type": "talk_topic", "id": "TALK_MOD", "dynamic_line": "The harvest was good this year."}])
    write(root / "json" / "broken.json", "{ not json")
    return root


def test_cdda_conversations_keep_what_is_said_on_every_branch(tmp_path):
    docs = games.cdda_docs(cdda_tree(tmp_path))
    lines = [p for d in docs for p in d]
    for said in ("Morning, sir.", "Morning, ma'am.", "Hey friend, good to see you.",
                 "Could you spare some eggs?", "Here is the money.", "I can't pay yet.",
                 "I gave you eggs already.", "Take a dozen, friend.", "Thanks.",
                 "The harvest was good this year.", "I left the keys under the mat.",
                 "Gone to the store, back at six."):
        assert said in lines, said
    # no condition values, no profanity filled in, no test topics, no name lists
    assert not any("eggs_given" in p or "darn" in p or "test response" in p or "Springfield" in p
                   for p in lines)


def test_cdda_orders_notes_first_and_the_core_conversations_last(tmp_path):
    docs = games.cdda_docs(cdda_tree(tmp_path))
    assert docs[-1][0] == "Morning, sir."  # core talk is the tail, where the held-out part is cut
    flat = [p for d in docs for p in d]
    assert flat.index("I left the keys under the mat.") < flat.index("The harvest was good this year.")
    assert flat.index("The harvest was good this year.") < flat.index("Morning, sir.")


def test_a_tag_the_game_does_not_define_drops_the_line(tmp_path):
    table = {"<name_g>": ["<pal>"], "<pal>": ["pal"]}
    assert games.cdda_fill("Hi <name_g>.", table) == "Hi pal."
    assert games.cdda_fill("Hi <stranger>.", table) is None
    assert games.cdda_fill("You <swear>!", {"<swear>": ["darn"]}) is None


def test_cdda_descriptions_keep_everyday_things_but_not_firearms(tmp_path):
    docs = games.cdda_description_docs(cdda_tree(tmp_path))
    lines = [p for d in docs for p in d]
    assert lines == ["A pair of blue jeans with two deep pockets.", "A shopping list, written in pencil."]


# --------------------------------------------------------------------------
# FreedroidRPG, Adonthell, Dink Smallwood
# --------------------------------------------------------------------------
FREEDROID = '''--[[WIKI
PURPOSE = "$$NAME$$ is the village idiot"
WIKI]]--
return {
	FirstTime = function()
		Tux:says(_"Hello! I'm new here.")
		--; TRANSLATORS: %s = Tux:get_player_name()
		Npc:says(_"Hey, %s, right?", Tux:get_player_name())
		Npc:says(_"I'm [b]really[/b] glad you came. He said \\"run\\" and I ran.")
		-- Npc:says(_"A line commented out.")
	end,
	{ id = "node0", text = _"Where can I buy food?", code = function() end },
}
'''


def test_freedroid_dialogue_is_its_translatable_lines_in_order(tmp_path):
    write(tmp_path / "storyline" / "act1" / "dialogs" / "Bender.lua", FREEDROID)
    write(tmp_path / "storyline" / "act1" / "dialogs" / "TutorialTerminal.lua",
          'Npc:says(_"Login: root. Access granted.")\n')
    write(tmp_path / "storyline" / "act2" / "dialogs" / "Fred.lua", 'Npc:says(_"I make grenades.")\n')
    docs = games.freedroid_docs(tmp_path)
    assert docs == [["I make grenades."],  # act 2 first: act 1's last characters are held out
                    ["Hello! I'm new here.", 'I\'m really glad you came. He said "run" and I ran.',
                     "Where can I buy food?"]]


ADONTHELL = '''import dialogue
class erek_start(dialogue.base):
	text = [None,\\
		_("Maybe I should not be doing this, but I do want my master to get his stones back."),\\
		_("This is $name, master, and he is investigating the theft."),\\
		_("I think that \\"theft\\" is a better word for it.")]
	# _("A comment.")
'''


def test_adonthell_dialogue_drops_lines_naming_the_player(tmp_path):
    write(tmp_path / "erek_start.py", ADONTHELL)
    write(tmp_path / "__init__.py", '_("Not a dialogue.")\n')
    assert games.adonthell_docs(tmp_path) == [[
        "Maybe I should not be doing this, but I do want my master to get his stones back.",
        'I think that "theft" is a better word for it.']]


DINK = '''//the duck lady
void talk( void )
{
 say_stop("`5Hello there, Dink.  The ducks", &current_sprite);
 say_stop("`5are not happy today.", &current_sprite);
 say_stop("I found &gold gold.", 1);
 // say_stop("An old line.", 1);
 say("`%See ya.", 1);
}
'''


def test_dink_joins_a_speech_said_in_several_bubbles(tmp_path):
    write(tmp_path / "DUCKLADY.c", DINK)
    assert games.dink_docs(tmp_path) == [["Hello there, Dink. The ducks are not happy today.", "See ya."]]


def test_a_series_filled_from_one_template_keeps_only_its_first():
    ring = "A {} ring with a pearl mounted on top. You can wear it, but it won't provide any effects."
    docs = [[ring.format("gold"), "A pair of blue jeans with two deep pockets and a belt."],
            [ring.format("silver"), ring.format("platinum"), "A short one.", "A short one."]]
    assert games.drop_templates(docs) == [[ring.format("gold"), "A pair of blue jeans with two deep pockets and a belt."],
                                          ["A short one.", "A short one."]]


# --------------------------------------------------------------------------
# What the second reading found (fill-in lists, fragments, consoles, redactions)
# --------------------------------------------------------------------------
def test_a_tag_with_spaces_or_a_redaction_drops_the_line_but_a_key_name_does_not():
    for line in ("<Casts harm>", "Jack used to be kind. <bursts into tears>",
                 "Subject ███ was moved to the ██████ wing.", "The keyring is ▓▓▓ inert."):
        assert games.clean_line(line) is None, line
    hint = "Cycle through monsters with '<' and '>'."
    assert games.clean_line(hint) == hint


def test_a_fill_in_list_keeps_its_sentences_but_not_its_bare_words(tmp_path):
    root = cdda_tree(tmp_path)
    write_json(root / "json" / "snippets" / "moods.json", [
        {"type": "snippet", "category": "<musicgenre_prefix>", "text": ["neo", "retro"]},
        {"type": "snippet", "category": "<sad>", "text": ["bummed", "feeling blue",
                                                          "I could cry all day long", "Leave me be."]},
        {"type": "snippet", "category": "lost_note", "text": ["Gone"]},  # not a fill-in list: kept
    ])
    lines = [p for d in games.cdda_docs(root) for p in d]
    for kept in ("I could cry all day long", "Leave me be.", "Gone", "Hey friend, good to see you.",
                 "Take a dozen, friend."):
        assert kept in lines, kept
    # the words a list fills in stay in the lines they fill, never paragraphs of their own
    for fragment in ("neo", "retro", "bummed", "feeling blue", "friend", "pal"):
        assert fragment not in lines, fragment


def test_only_the_games_test_data_is_skipped_not_a_file_that_contains_test(tmp_path):
    root = cdda_tree(tmp_path)
    write_json(root / "mods" / "Aftershock" / "npcs" / "Backgrounds" / "selftest.json", [
        {"type": "talk_topic", "id": "BGSS_SELF", "dynamic_line": "I made a living bootlegging medicines."}])
    for path in ("mods/TEST_DATA/items.json", "json/mapgen/mapgen-test.json", "mods/Magiclysm/Spells/debug.json",
                 "json/npcs/NC_DEBUG.json"):
        write_json(root / path, [{"type": "talk_topic", "id": "T", "dynamic_line": f"Test line of {path}."}])
    lines = [p for d in games.cdda_docs(root) for p in d]
    assert "I made a living bootlegging medicines." in lines
    assert not any(p.startswith("Test line") or "test response" in p for p in lines)


def test_a_freedroid_script_that_prints_a_login_prompt_is_a_console_whatever_its_name(tmp_path):
    dialogs = tmp_path / "storyline" / "act1" / "dialogs"
    write(dialogs / "DSB-PowerControl.lua", '''return {
	FirstTime = function()
		cli_says(_"Login : ", "NO_WAIT")
		Tux:says(_"admin", "NO_WAIT")
		cli_says(_" Password : ", "NO_WAIT")
		Npc:says(_"Power is now off.")
	end,
	{ id = "node0", text = _"passwd" },
}
''')
    write(dialogs / "Bender.lua", 'Npc:says(_"I sometimes login to her account. Login is easy.")\n')
    assert games.freedroid_docs(tmp_path) == [["I sometimes login to her account. Login is easy."]]


def test_a_string_a_helper_returns_is_a_fragment_not_a_line(tmp_path):
    write(tmp_path / "orloth_start.py", ADONTHELL + '''
	def get_culprit(self):
	    if self.fem:
	        return _("thief to her")
	    return _("your ")
''')
    lines = [p for d in games.adonthell_docs(tmp_path) for p in d]
    assert "I think that \"theft\" is a better word for it." in lines
    assert not any(p in ("thief to her", "your") for p in lines)
