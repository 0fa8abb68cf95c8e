"""Words never offered: slurs and strong profanity.

A keyboard that offers a slur in its strip, or "corrects" a slip into an obscenity, is judged
by it, whatever the corpus held (the books' "whore", the chat's "slut", a word list's "Squaw").
These words are hidden as the bundle's slips are (``predictor``): never a next word, a
completion, a correction, a phrase or a document's word in the strip; typed in full they are
left as typed, never corrected to or from.  The network's rows stay, so no other word's
probability changes.  Phones' keyboards do the same ("Block offensive words").

The list is small on purpose: slurs, and the strong profanity of English; a word with an
everyday sense first ("cock", "dick", "pussy", "prick", "ass") is not in it.
"""

from __future__ import annotations

OFFENSIVE: frozenset[str] = frozenset("""
nigger niggers nigga niggas kike kikes chink chinks gook gooks spic spics wetback wetbacks
raghead ragheads towelhead towelheads paki pakis coon coons squaw squaws faggot faggots fag fags
dyke dykes tranny trannies retard retards retarded shemale
fuck fucks fucked fucking fucker fuckers motherfucker motherfuckers motherfucking fuckin fck
shit shits shitty shitting bullshit horseshit cunt cunts twat twats wanker wankers bitch bitches
bitchy whore whores slut sluts slutty asshole assholes arsehole bastard bastards
""".split())
