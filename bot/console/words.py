"""The console's own words, in French and English (the pages' language: the operator's
Telegram language when they log in, then `?lang=`). Dialog texts are shown as written."""

from __future__ import annotations

from collections.abc import Mapping

LANGUAGES = ("fr", "en")
_WORDS: dict[str, tuple[str, str]] = {  # key: (fr, en)
    "title": ("Console VIE Coach", "VIE Coach console"),
    "nav_funnel": ("Parcours", "Funnel"),
    "nav_map": ("Carte des dialogues", "Dialog map"),
    "nav_unknown": ("Incompris", "Not understood"),
    "nav_experiments": ("Expériences", "Experiments"),
    "nav_broadcasts": ("Envois à tous", "Broadcasts"),
    "nav_versions": ("Versions", "Versions"),
    "logout": ("Se déconnecter", "Log out"),
    "language": ("Langue", "Language"),
    "as_of": ("Chiffres au", "Figures as of"),
    "window": ("Personnes arrivées ces", "People who started in the last"),
    "days": ("jours", "days"),
    "show": ("Afficher", "Show"),
    "split_by": ("Détail par", "Split by"),
    "by_none": ("rien", "nothing"),
    "by_advocate": ("ambassadeur", "advocate"),
    "by_cohort": ("semaine d'arrivée", "week of arrival"),
    "by_language": ("langue", "language"),
    "by_variant": ("variante", "variant"),
    "started": ("Ont commencé", "Started"),
    "stages": ("Étapes", "Stages"),
    "milestones": ("Jalons", "Milestones"),
    "stage_V": ("V — Viraliser", "V — Spread"),
    "stage_I": ("I — Informer", "I — Inform"),
    "stage_E": ("E — Éduquer", "E — Educate"),
    "people": ("personnes", "people"),
    "share": ("part", "share"),
    "quiet": ("Silencieux depuis plus de {days} jours", "Quiet for more than {days} days"),
    "stopped_reminders": ("Ont coupé les rappels", "Turned reminders off"),
    "erased": ("Ont tout effacé (/forget)", "Erased everything (/forget)"),
    "reminders": ("Rappels envoyés", "Reminders sent"),
    "came_back": ("suivis d'un retour dans la journée", "followed by a return within a day"),
    "drop_off": ("Où s'arrêtent les personnes silencieuses", "Where the quiet people stopped"),
    "group": ("Groupe", "Group"),
    "hidden": ("moins de 5", "fewer than 5"),
    "hidden_note": (
        "Les groupes de moins de 5 personnes ne sont pas détaillés, pour que personne ne "
        "soit reconnaissable. Un ambassadeur n'est nommé (par son prénom) que s'il l'a choisi.",
        "Groups of fewer than 5 people are not shown in detail, so that nobody can be "
        "recognised. An advocate is named (by first name) only if they chose to be.",
    ),
    "nobody_yet": (
        "Personne n'a encore commencé dans cette période.",
        "Nobody started in this period yet.",
    ),
    "all": ("Tout le monde", "Everyone"),
    "nobody_invited": ("Venus sans invitation", "Came without an invitation"),
    "advocate_left": ("Ambassadeur parti", "Advocate left"),
    "advocate_rank": ("Ambassadeur n° {label}", "Advocate no. {label}"),
    "others": ("Les autres ambassadeurs ({label})", "The other advocates ({label})"),
    "map_intro": (
        "Chaque étape des dialogues servis (version {version}) : combien de personnes l'ont "
        "atteinte, combien s'y trouvent, et combien s'y sont arrêtées (silencieuses depuis "
        "plus de {days} jours). Cliquez sur une étape pour voir ses textes.",
        "Each step of the dialogs served (version {version}): how many people reached it, "
        "how many stand there now, and how many stopped there (quiet for more than {days} "
        "days). Click a step to see its texts.",
    ),
    "node": ("Étape", "Step"),
    "reached": ("Atteinte par", "Reached by"),
    "here": ("S'y trouvent", "There now"),
    "stopped": ("S'y sont arrêtées", "Stopped there"),
    "stop_rate": ("Taux d'arrêt", "Stop rate"),
    "no_picture": (
        "Le dessin de la carte demande Graphviz (dot), absent de cette machine : voici la "
        "carte en tableau.",
        "Drawing the map needs Graphviz (dot), which this machine lacks: here is the map as "
        "a table.",
    ),
    "unreachable": ("inaccessible", "unreachable"),
    "dead_end": ("sans issue", "dead end"),
    "end": ("fin", "end"),
    "texts": ("Textes", "Texts"),
    "variants": ("Variantes (expérience)", "Variants (experiment)"),
    "weight": ("poids", "weight"),
    "buttons": ("Boutons", "Buttons"),
    "leads_to": ("mène à", "leads to"),
    "nudges": ("Rappels", "Reminders"),
    "after": ("après", "after"),
    "none": ("aucun", "none"),
    "unknown_here": ("Ce qui n'a pas été compris ici", "What was not understood here"),
    "unknown_intro": (
        "Ce que des personnes ont écrit et que le bot n'a pas compris, le plus fréquent "
        "d'abord, sur les {days} derniers jours (rien de plus ancien n'est gardé). Ces textes "
        "sont anonymes : personne n'est relié à ce qu'il a écrit.",
        "What people wrote that the bot did not understand, most frequent first, over the "
        "last {days} days (nothing older is kept). These texts are anonymous: nobody is "
        "linked to what they wrote.",
    ),
    "text": ("Texte", "Text"),
    "times": ("Fois", "Times"),
    "lang": ("Langue", "Language"),
    "nearest": ("Intention la plus proche", "Nearest intent"),
    "score": ("score", "score"),
    "nothing_unknown": ("Rien d'incompris pour l'instant.", "Nothing misunderstood so far."),
    "experiments_intro": (
        "Chaque expérience compare des variantes d'un texte. Une conversion compte quand la "
        "personne atteint le résultat visé après avoir vu sa variante. Fixez le nombre de "
        "personnes par variante avant de commencer, et lisez le résultat une fois ce nombre "
        "atteint : s'arrêter au premier p < 0,05 trouve des différences qui n'existent pas.",
        "Each experiment compares variants of a text. A conversion counts when the person "
        "reaches the outcome after seeing their variant. Fix the number of people per arm "
        "before starting, and read the result once it is reached: stopping at the first "
        "p < 0.05 finds differences that are not there.",
    ),
    "arm": ("Variante", "Arm"),
    "exposed": ("Exposées", "Exposed"),
    "converted": ("Converties", "Converted"),
    "already": ("Déjà atteint avant", "Reached before"),
    "rate": ("Taux", "Rate"),
    "interval": ("Intervalle à 95 %", "95 % interval"),
    "difference": ("Écart avec la référence", "Difference from control"),
    "p_value": ("p", "p"),
    "control": ("référence", "control"),
    "outcome": ("Résultat visé", "Outcome"),
    "shown_at": ("Montrée à l'étape", "Shown at step"),
    "not_seen": ("Personne ne l'a encore vue.", "Nobody has seen it yet."),
    "srm": (
        "Répartition suspecte entre variantes (p = {p}) : vérifiez les poids et les journaux "
        "avant de lire le résultat.",
        "Suspicious split between arms (p = {p}): check the weights and the logging before "
        "reading the result.",
    ),
    "weights_assumed": (
        "Poids inconnus : parts égales supposées.",
        "Weights unknown: equal shares assumed.",
    ),
    "no_experiments": ("Aucune expérience dans les dialogues.", "No experiment in the dialogs."),
    "broadcast_intro": (
        "Le message envoyé à tous ceux qui acceptent les rappels, à son rythme. Il s'écrit "
        "dans Telegram (/broadcast) ; ici, on le suit, on le met en pause, on le reprend.",
        "The message sent to everyone who accepts reminders, at its pace. It is written in "
        "Telegram (/broadcast); here you follow it, pause it, resume it.",
    ),
    "no_broadcast": ("Aucun envoi à tous pour l'instant.", "No broadcast so far."),
    "state": ("État", "State"),
    "state_running": ("en cours", "running"),
    "state_paused": ("en pause", "paused"),
    "state_done": ("terminé", "done"),
    "state_cancelled": ("annulé", "cancelled"),
    "recipients": ("Destinataires", "Recipients"),
    "sent": ("Envoyés", "Sent"),
    "waiting": ("En attente", "Waiting"),
    "blocked": ("Ont bloqué le bot", "Blocked the bot"),
    "refused": ("Refusés par Telegram", "Refused by Telegram"),
    "skipped": ("Passés (rappels coupés ou bot bloqué)", "Skipped (reminders off or bot blocked)"),
    "minutes_left": ("Environ {n} min restantes", "About {n} min left"),
    "started_at": ("Commencé le", "Started on"),
    "pause": ("Mettre en pause", "Pause"),
    "resume": ("Reprendre", "Resume"),
    "cancel": ("Annuler l'envoi", "Cancel the broadcast"),
    "confirm_pause": (
        "Mettre l'envoi en pause ? Personne d'autre ne le recevra avant la reprise.",
        "Pause the broadcast? Nobody else receives it until it resumes.",
    ),
    "confirm_resume": (
        "Reprendre l'envoi là où il s'était arrêté ?",
        "Resume the broadcast where it stopped?",
    ),
    "confirm_cancel": (
        "Annuler l'envoi ? Ceux qui ne l'ont pas reçu ne le recevront pas, et on ne peut pas revenir en arrière.",
        "Cancel the broadcast? Those who have not received it will not, and this cannot be undone.",
    ),
    "confirm_rollback": (
        "Revenir à la version {version} des dialogues ? Ses fichiers remplacent ceux du dossier, "
        "le bot vérifie puis sert cette version, et les personnes sont déplacées comme lors "
        "d'un rechargement.",
        "Go back to version {version} of the dialogs? Its files replace those in the folder, "
        "the bot checks them and serves that version, and people are moved as on a reload.",
    ),
    "yes": ("Oui, confirmer", "Yes, confirm"),
    "no": ("Non, revenir", "No, go back"),
    "done_pause": ("L'envoi est en pause.", "The broadcast is paused."),
    "done_resume": ("L'envoi a repris.", "The broadcast resumed."),
    "done_cancel": ("L'envoi est annulé.", "The broadcast is cancelled."),
    "already_pause": ("L'envoi était déjà en pause.", "The broadcast was already paused."),
    "already_resume": ("L'envoi était déjà en cours.", "The broadcast was already running."),
    "already_cancel": ("L'envoi était déjà annulé.", "The broadcast was already cancelled."),
    "none_active": ("Aucun envoi en cours ou en pause.", "No broadcast running or paused."),
    "versions_intro": (
        "Les versions des dialogues que ce bot a servies, la plus récente d'abord.",
        "The dialog versions this bot has served, the latest first.",
    ),
    "version": ("Version", "Version"),
    "served_since": ("Servie depuis le", "Served from"),
    "why": ("Pourquoi", "Why"),
    "current": ("en service", "in service"),
    "rollback": ("Revenir à cette version", "Go back to this version"),
    "rolled_back": ("Version {version} en service.", "Version {version} is served."),
    "rollback_failed": ("Retour impossible : {why}", "Could not go back: {why}"),
    "rollback_off": (
        "Ce bot ne sert pas de dossier de dialogues qu'il peut réécrire : le retour en "
        "arrière se fait avec vie-coach versions rollback.",
        "This bot serves no dialog folder it can rewrite: roll back with vie-coach versions "
        "rollback.",
    ),
    "no_versions": ("Aucune version enregistrée.", "No version recorded yet."),
    "refused_title": ("Lien refusé", "Link refused"),
    "refused_link": (
        "Ce lien a déjà servi, a expiré ou n'est pas valable. Tapez /console dans Telegram "
        "pour en recevoir un nouveau.",
        "This link was already used, has expired or is not valid. Type /console in Telegram "
        "to get a new one.",
    ),
    "login_title": ("Connexion nécessaire", "Login needed"),
    "login_needed": (
        "Pour ouvrir la console, tapez /console dans Telegram : vous recevrez un lien "
        "personnel, valable une fois.",
        "To open the console, type /console in Telegram: you will receive a personal "
        "one-time link.",
    ),
    "forbidden_title": ("Demande refusée", "Request refused"),
    "forbidden": (
        "Cette demande n'a pas été faite depuis un formulaire de la console (jeton manquant "
        "ou périmé) : rien n'a changé. Rechargez la page et recommencez.",
        "This request did not come from a form of the console (missing or stale token): "
        "nothing changed. Reload the page and try again.",
    ),
    "not_found_title": ("Page introuvable", "Page not found"),
    "not_found": ("Cette page n'existe pas, ou plus.", "This page does not exist, or no longer."),
    "chart_caption": ("Chaque barre porte son nombre.", "Each bar carries its number."),
}


def words(lang: str) -> Mapping[str, str]:
    """Every word of the interface in `lang` (French for a language it does not have)."""
    i = LANGUAGES.index(lang) if lang in LANGUAGES else 0
    return {key: pair[i] for key, pair in _WORDS.items()}
