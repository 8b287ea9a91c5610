"""The languages Auto explains itself in: a cheap guess of a prompt's language, and each task in its words.

When the learned stage decides a prompt's task, the reason is a phrase saying what the request reads as, in
the prompt's language if it is one of these (English otherwise). The guess counts short words that are common
in one of the languages and rare in the others; a tie or no such word means English.
"""

from chat.router.learned import folded

LANGUAGES = ("en", "es", "fr", "de", "pt")
GUESS_CHARS = 1_500  # the opening of a prompt is where the person writes in their own language

# Frequent short words that tell the languages apart (without accents, lower case); words two of them share,
# such as "de", "que", "la" or "para", are left out.
_TELLING = {
    "en": "the and to of is for this that with you our it please my what how can be are",
    "es": "el los las y del una por con lo al pero muy mi su nuestro nuestra puedes",
    "fr": "le les et des du est une pour qui dans avec ce cette nous vous notre votre pas sur au aux",
    "de": "der die das und ist nicht ein eine zu mit fur den dem von auf ich wir sie bitte unsere",
    "pt": "os do da dos e uma com nao no na ao pelo pela voce seu sua nosso nossa isso",
}
TELLING_WORDS = {language: frozenset(words.split()) for language, words in _TELLING.items()}

READS_AS = {
    "en": "this reads as {}",
    "es": "por lo que dice, es {}",
    "fr": "à sa lecture, c'est {}",
    "de": "die Anfrage liest sich wie {}",
    "pt": "pelo que diz, é {}",
}
TASK_PHRASES = {
    "support_intent": {
        "en": "a request to sort a customer's message into a category",
        "es": "una petición para clasificar el mensaje de un cliente",
        "fr": "une demande de classer le message d'un client",
        "de": "eine Bitte, die Nachricht eines Kunden einer Kategorie zuzuordnen",
        "pt": "um pedido para classificar a mensagem de um cliente",
    },
    "bulk_summary": {
        "en": "a request to summarise many items briefly",
        "es": "una petición para resumir brevemente muchos elementos",
        "fr": "une demande de résumer brièvement de nombreux éléments",
        "de": "eine Bitte, viele Einträge kurz zusammenzufassen",
        "pt": "um pedido para resumir brevemente muitos itens",
    },
    "json_extraction": {
        "en": "a request to pull structured data out of a text",
        "es": "una petición para extraer datos estructurados de un texto",
        "fr": "une demande d'extraire des données structurées d'un texte",
        "de": "eine Bitte, strukturierte Daten aus einem Text zu ziehen",
        "pt": "um pedido para extrair dados estruturados de um texto",
    },
    "rag_rerank": {
        "en": "a request to rank passages or answers by relevance",
        "es": "una petición para ordenar pasajes o respuestas por relevancia",
        "fr": "une demande de classer des passages ou des réponses par pertinence",
        "de": "eine Bitte, Passagen oder Antworten nach Relevanz zu ordnen",
        "pt": "um pedido para ordenar trechos ou respostas por relevância",
    },
    "social_caption": {
        "en": "a request for a short post for social media",
        "es": "una petición de un texto corto para redes sociales",
        "fr": "une demande de texte court pour les réseaux sociaux",
        "de": "eine Bitte um einen kurzen Beitrag für soziale Medien",
        "pt": "um pedido de um texto curto para redes sociais",
    },
    "chatbot": {
        "en": "a request to answer as, or write for, a chat assistant",
        "es": "una petición para responder como asistente de chat, o escribir para uno",
        "fr": "une demande de répondre comme un assistant de discussion, ou d'écrire pour lui",
        "de": "eine Bitte, als Chat-Assistent zu antworten oder für einen zu schreiben",
        "pt": "um pedido para responder como assistente de chat, ou escrever para um",
    },
    "support_email": {
        "en": "a message to write to a customer",
        "es": "un mensaje que escribir a un cliente",
        "fr": "un message à écrire à un client",
        "de": "eine Nachricht an einen Kunden",
        "pt": "uma mensagem a escrever a um cliente",
    },
    "code_review": {
        "en": "a request to review or explain code",
        "es": "una petición para revisar o explicar código",
        "fr": "une demande de relire ou d'expliquer du code",
        "de": "eine Bitte, Code zu prüfen oder zu erklären",
        "pt": "um pedido para revisar ou explicar código",
    },
    "long_document_qa": {
        "en": "a question about a long document",
        "es": "una pregunta sobre un documento largo",
        "fr": "une question sur un long document",
        "de": "eine Frage zu einem langen Dokument",
        "pt": "uma pergunta sobre um documento longo",
    },
    "brand_content": {
        "en": "a request for creative writing or writing in a brand's voice",
        "es": "una petición de texto creativo o con la voz de una marca",
        "fr": "une demande d'écriture créative ou dans la voix d'une marque",
        "de": "eine Bitte um kreative Texte oder Texte in der Stimme einer Marke",
        "pt": "um pedido de texto criativo ou com a voz de uma marca",
    },
    "multi_step": {
        "en": "a task of several steps with conditions to keep",
        "es": "una tarea de varios pasos con condiciones que respetar",
        "fr": "une tâche en plusieurs étapes avec des conditions à respecter",
        "de": "eine Aufgabe in mehreren Schritten mit einzuhaltenden Vorgaben",
        "pt": "uma tarefa de vários passos com condições a respeitar",
    },
    "research_summary": {
        "en": "a request to write up research for readers",
        "es": "una petición para redactar una investigación para lectores",
        "fr": "une demande de rédiger une recherche pour des lecteurs",
        "de": "eine Bitte, Forschung für Leser aufzubereiten",
        "pt": "um pedido para redigir uma pesquisa para leitores",
    },
    "general_chat": {
        "en": "everyday conversation",
        "es": "una conversación corriente",
        "fr": "une conversation ordinaire",
        "de": "ein gewöhnliches Gespräch",
        "pt": "uma conversa comum",
    },
}


def guess_language(text: str) -> str:
    """Return the language `text` is most likely written in, of LANGUAGES; English when unsure."""
    counts = dict.fromkeys(LANGUAGES, 0)
    for word in folded(text[:GUESS_CHARS]).split():
        for language, words in TELLING_WORDS.items():
            if word in words:
                counts[language] += 1
    best = max(counts.values())
    leaders = [language for language, count in counts.items() if count == best]
    return leaders[0] if best and len(leaders) == 1 else "en"


def reads_as(task: str, language: str) -> str:
    """Return "this reads as <what the task is>" in `language` (English for any other language)."""
    language = language if language in READS_AS else "en"
    return READS_AS[language].format(TASK_PHRASES[task][language])
