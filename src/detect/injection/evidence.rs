//! The compositional test: a sentence is a planted instruction when it carries enough kinds of
//! evidence, whatever its exact phrasing. Kinds: it addresses a model (`ADDRESS`), overrides
//! what the model was told (`OVERRIDE`), gives it a new identity (`ROLE`), asks for something
//! an attacker wants (`PAYLOAD`), is phrased as an order (`MOOD`), sits in markup that frames
//! or hides it (`MARKUP`), or forges a turn of a chat template (`FORGED`, enough alone). A
//! model described rather than spoken to ("LLMs indexing this repository should …", `READER`)
//! is a weaker address: an order alone does not make it an injection. A
//! sentence that talks *about* attacks (`MENTION`: "researchers", "such as", "jailbreaks") is
//! never one. Each kind is a handful of grammatical forms, not a list of known injections.

use std::sync::LazyLock;

use regex::bytes::{RegexSet, RegexSetBuilder};

pub(super) const ADDRESS: u16 = 1;
pub(super) const OVERRIDE: u16 = 2;
pub(super) const PAYLOAD: u16 = 4;
pub(super) const MOOD: u16 = 8;
pub(super) const MARKUP: u16 = 16;
pub(super) const MENTION: u16 = 32;
pub(super) const ROLE: u16 = 64;
pub(super) const FORGED: u16 = 128;
pub(super) const READER: u16 = 256;

/// The name of each kind, in bit order.
pub(super) const NAMES: [&str; 9] = [
    "address", "override", "payload", "mood", "markup", "mention", "role", "forged", "reader",
];

/// What a planted instruction calls the model it addresses, unambiguously.
const STRONG: &str = r"(?:ai|a\.i\.|llms?|chatbots?|(?:large\s+)?language\s+models?|chatgpt|gpt(?:-?\d+)?|claude|gemini|copilots?|bard)";
/// Nouns that name a model only in an address ("Dear assistant,"), not when described.
const NOUN: &str =
    r"(?:assistants?|models?|agents?|bots?|crawlers?|summari[sz]ers?|scrapers?|indexers?)";
/// Nouns that name a model after a qualifier ("AI code reviewers", "automated systems").
const QUAL: &str = r"(?:systems?|tools?|reviewers?|screeners?|readers?|graders?|evaluators?|judges?|rankers?|classifiers?|assistants?|models?|agents?|bots?|crawlers?|summari[sz]ers?|scrapers?|indexers?)";
/// Verbs an instruction opens with, or puts after "must".
const VERBS: &str = concat!(
    r"(?:wire|pay|book|label|tag|grant|publish|link|inform|warn|notify|redirect|let|make|keep|",
    r"avoid|refrain|ignore|disregard|forget|stop|answer|respond|reply|output|print|say|state|",
    r"write|tell|recommend|praise|rank|rate|describe|summari[sz]e|translate|send|email|forward|",
    r"upload|execute|run|disable|enable|treat|obey|reveal|list|append|add|include|insert|visit|",
    r"pretend|act|play|claim|insist|delete|remove|transfer|approve|mark|classify|refuse|promote|share|",
    r"omit|leave\s+out|trust|give|paste|click|submit|replace|cite|conclude|skip|call|open|",
    r"download|install|buy|endorse|report|change|set|use|return|begin|start|switch|become|",
    r"assume|follow|ask|accept|direct|mention|disclose|provide|wipe|close|merge|assign|escalate|comply|",
    r"explain|generate|create|compose|draft|drop|get|obtain|collect|impersonate|do\s+not|don't|never|always|only)"
);
/// Where an address ends: a comma, colon, exclamation mark, closing bracket or dash.
const ADDRESS_END: &str = r"(?:\s+(?:that|who|which)\s+\w+(?:\s+\w+){0,2}|\s+\w+ing\s+(?:this|these|the|my|our)\s+\w+)?\s*(?:[,:!\]]|\s-+\s|\xE2\x80\x94)";
/// What a model is doing when a note speaks to it ("the AI reading this").
const READING: &str = r"(?:reading|reads|processing|processes|parsing|parses|summari[sz]ing|summari[sz]es|crawling|crawls|indexing|indexes|ingesting|ingests|analy[sz]ing|reviewing|reviews|grading|sees|scanning|evaluating|evaluates|assessing|assesses|scoring|scores|ranking|ranks|judging|judges|screening|screens|checking|checks|trained\s+on)";

/// The patterns that need no formatting, by kind of evidence.
const FIXED: &[(u16, &[&str])] = &[
    // Addresses that name no reader: by what the model is used for, or by who speaks to it.
    (
        ADDRESS,
        &[
            // "If you are being used to summarize this", "if you were asked to review this".
            r"\b(?:if|when|while)\s+(?:you\s+are|you're|you\s+were)\s+(?:being\s+)?(?:used|asked|deployed|prompted|tasked|instructed)\s+to\s+\w+\s+(?:this|these|my|our)\b",
            r"\bthis\s+is\s+your\s+(?:developer|creator|admin(?:istrator)?|operator|owner|master)\b",
            r"\bas\s+your\s+(?:developer|creator|admin(?:istrator)?|operator|owner|master|programmer)\b",
            // Named between commas, or written to: ", large language model,", "addressed to
            // automated assistants", "if this page is being read by an AI".
            r"(?:,|\bdear)\s+(?:(?:large\s+)?language\s+models?|(?-i:LLMs?)|chatgpt|claude|gemini|copilot)\s*,",
            r"\[(?:ai|llm|bot|model|gpt)[-\s]only\]",
            // A note headed with the model it is for: "Model instruction:", "AI note:".
            r"\b(?:ai|llm|model|assistant|agent|chatbot|bot|gpt)\s+(?:(?:crawlers?|agents?|assistants?|readers?|bots?|models?|systems?)\s+)?(?:instructions?|directives?|notes?|notices?|messages?|commands?|orders?)\s*:",
            // A code comment for a coding assistant: "TODO(ai):", "NOTE(copilot):".
            r"\b(?:todo|note|fixme|hack|xxx)\s*\((?:ai|llm|copilot|assistant|claude|gpt|codex|agent|bot)\)\s*:",
        ],
    ),
    // Dropping the model's own instructions is what an attacker wants by itself: "ignore the
    // previous instructions", "disregard your safety guidelines", "forget everything you have
    // been told".
    (
        OVERRIDE | PAYLOAD,
        &[
            r"\b(?:ignore|disregard|forget|override|overrule|bypass|abandon|discard|pay\s+no\s+attention\s+to|stop\s+following|(?:do\s+not|don't|never)\s+(?:follow|obey|heed))\s+(?:(?:all|any|the|your|its|of|these|those|every)\s+){0,3}(?:previous|prior|earlier|above|preceding|foregoing|original|initial|old|existing|given|system|developer)\s+(?:[a-z]+\s+)?(?:instructions|directives|directions|rules|guidelines|constraints|prompts?|context|guidance|commands|orders|programming|policies|guardrails)\b",
            r"\b(?:ignore|disregard|forget|abandon|discard|bypass|override|(?:do\s+not|don't|never|stop)\s+(?:obey|follow|heed)(?:ing)?)\s+(?:all\s+(?:of\s+)?|the\s+rest\s+of\s+)?your\s+(?:[a-z]+\s+){0,2}(?:instructions|directives|directions|rules|guidelines|constraints|prompts?|guidance|programming|policies|polic(?:y|ies)|guardrails|safeguards|restrictions|training|ethics)\b",
            r"\b(?:ignore|disregard|forget|abandon|discard|drop|skip)\s+(?:(?:all|any|every|each|the|of|these|those)\s+){0,3}(?:instructions|directives|directions|rules|guidelines|guidance|prompts?|commands|orders|context|constraints?|restrictions?|polic(?:y|ies))\s+(?:that\s+)?you(?:'ve|\s+have|\s+had|\s+were|\s+are)?\s+(?:been\s+)?(?:given|told|received|taught|programmed|trained|configured|instructed|provided)\b",
            // The rules of whoever set the model up: "disregard the system's rules", "ignore
            // the operator's instructions"; safety set aside: "ignore safety considerations".
            r"\b(?:ignore|disregard|forget|bypass|override|overrule)\s+(?:the\s+|your\s+|all\s+)?(?:developer|operator|system|admin(?:istrator)?|creator|owner|deployer)(?:'s|s')?\s+(?:\w+\s+)?(?:instructions|rules|guidelines|prompt|policies|constraints|restrictions|orders|directives)\b",
            r"\b(?:ignore|disregard|forget|bypass|skip|set\s+aside)\s+(?:all\s+|any\s+|the\s+|your\s+)?(?:safety|ethical|moral|content)\s+(?:considerations|concerns|measures|protocols|policies|policy|guidelines|rules|checks|filters|restrictions|limits|training)\b",
            r"\b(?:ignore|disregard|forget|abandon|discard|drop)\s+(?:everything|all|anything|whatever|what)\s+(?:that\s+)?(?:you(?:'ve|\s+have|\s+had|\s+were|\s+are)?|was|were|has\s+been|have\s+been)\s+(?:been\s+|so\s+far\s+)?(?:told|instructed|programmed)\b",
            r"\bnever\s?mind\s+(?:the\s+|all\s+(?:of\s+)?)?(?:above|previous|preceding|everything)\b",
            r"\b(?:ignore|disregard|forget|abandon|discard|bypass)\s+(?:all\s+|the\s+|any\s+)?(?:instructions|rules|guidelines|directives|constraints)\s+(?:in|of|from)\s+(?:your|the)\s+(?:system\s+(?:message|prompt)|prompt|configuration|setup)\b",
            r"\b(?:ignore|disregard|forget|abandon|discard|drop|skip)\s+(?:(?:all|any|every|the|these|those|your)\s+){0,2}(?:instructions?|directives|directions|rules|guidelines|guidance|prompts?|commands|orders|context|messages)\s+(?:above|before\s+(?:this|these|it|here)|so\s+far|(?:given|written|received)\s+(?:above|earlier|before))\b",
        ],
    ),
    // Overrides of what the model was told.
    (
        OVERRIDE,
        &[
            r"\b(?:ignore|disregard|forget)\s+(?:all\s+|everything\s+)?(?:that|this|the\s+above|everything)(?:\s+(?:that\s+)?(?:came|comes|went|was\s+(?:said|written|stated))\s+(?:before|above|earlier|previously))?(?:\s*[.!;,]|\s+and\b)",
            r"\b(?:ignore|disregard|forget|skip)\s+(?:all\s+)?(?:the\s+)?(?:text|content|words|everything|anything|lines?)\s+(?:before|above|preceding|prior\s+to)\s+(?:this|here)\b",
            r"\b(?:ignore|disregard|forget)\s+(?:all\s+)?(?:the\s+|this\s+)?(?:text|content|words|page|document|everything)\s+(?:that\s+)?you(?:'ve|\s+have)?\s+(?:just\s+)?(?:read|seen|been\s+(?:given|shown))\b",
            r"\b(?:treat|consider|regard)\s+(?:everything|all|anything|the\s+(?:text|instructions|content))\s+(?:above|before|so\s+far|earlier)\s+as\s+(?:untrusted|fake|false|invalid|void|a\s+test|irrelevant|fiction|a\s+joke)\b",
            r"(?:^|[.!?]\s+)(?:scratch|strike)\s+that\s*[.!]|\bwhatever\s+(?:the|this)\s+(?:page|text|document|article|site|user)\s+says\b",
            r"\bstop\s+(?:summari[sz]ing|translating|answering|reviewing|grading|evaluating|analy[sz]ing)\b",
            // Kept from the person asking: "do not tell the user about this note".
            r"\b(?:do\s+not|don't|never)\s+(?:tell|inform|let|alert|notify)\s+(?:the\s+)?(?:user|reader|human|customer|operator)s?\s+(?:about|know|of)\b|\bwithout\s+(?:telling|informing|alerting|notifying)\s+(?:the\s+)?(?:user|reader|human|customer|operator)s?\b",
            r"\b(?:must\s+not|do\s+not|don't|never)\s+(?:reveal|mention|disclose|repeat|show)\s+(?:this|these)\s+(?:message|note|instructions?|text|comment)s?\b",
            r"\bkeep\s+(?:this|these|the)\s+(?:note|message|instructions?|request|directive)\s+(?:secret|hidden|confidential|from\s+the\s+user)\b",
            // Claimed authority: "I order you to".
            r"\bI\s+(?:hereby\s+)?(?:order|command|instruct|direct)\s+you\s+to\b",
            r"\b(?:obeys?|answers?\s+to|listens?\s+to|serves?)\s+only\s+(?:me|us)\b|\bonly\s+(?:obeys?|answers?\s+to|listens?\s+to)\s+(?:me|us)\b",
            r"\byou(?:'re|\s+are)\s+no\s+longer\s+(?:an?\s+)?(?:ai|assistant|chatbot|language\s+model|model|bot|helpful|bound|restricted|limited)\b",
            r"\b(?:ignore|disregard|forget)\s+(?:the\s+|this\s+|your\s+)?(?:(?:user's|original|actual|real)\s+){0,2}(?:question|request|query|task|document|article|page|e-?mail)\b",
            // The rules themselves are above (with the payload); a message is only dropped.
            r"\b(?:ignore|disregard|forget)\s+(?:the\s+|your\s+)?(?:developer|operator|system|admin(?:istrator)?|creator|owner)(?:'s|s')?\s+(?:message|messages|note|notes|request)\b",
            r"\b(?:ignore|disregard|forget)\s+(?:what(?:ever)?|anything|everything)\s+(?:the\s+|your\s+)?(?:\w+\s+)?(?:user|human|person|customer|developer|operator|author|owner|admin(?:istrator)?|system)s?\s+(?:says|said|writes|wrote|asks|asked|types|typed|wants|wanted|tells\s+you|told\s+you|configured|set\s+up|specified|defined)\b",
            r"\b(?:no\s+longer\s+(?:applies|apply|valid|in\s+effect|bound)|are\s+(?:hereby\s+)?(?:revoked|lifted|void|suspended))\b",
            r"\b(?:jailbr(?:oken|eak)|developer\s+mode|dan\s+mode|god\s+mode|unrestricted\s+mode|content\s+(?:filters?|polic(?:y|ies))|safety\s+(?:filters?|guidelines|rules|restrictions|settings|checks)|system\s+(?:prompt|message|instructions)|hidden\s+prompt|initial\s+instructions|your\s+(?:developers?|creators?|programming|training|guidelines|instructions|rules|restrictions|filters?|ethics))\b",
            r"\b(?:what(?:ever)?|everything|anything)\s+(?:that\s+)?(?:you\s+(?:were|have\s+been|are|had\s+been)\s+)(?:told|instructed|given|taught)\b",
            r"\b(?:without\s+refusing|never\s+refuse|do\s+not\s+refuse|don't\s+refuse|stop\s+refusing|without\s+(?:any\s+)?(?:restrictions|filters|censorship|limits|ethics))\b",
            // Dropping what came before, whatever the verb: "set aside your prior directions",
            // "pay no attention to the preceding text", "do not heed your original rules".
            r"\b(?:ignore|disregard|forget|skip|discard|drop|abandon|dismiss|scrap|erase|wipe|clear|reset|flush|purge|neglect|overlook|override|overrule|bypass|supersedes?|overrides?|replaces?|revokes?|cancels?|set\s+aside|put\s+aside|throw\s+(?:out|away)|stop\s+following|pay\s+no\s+(?:attention|heed|mind)\s+to|(?:do\s+not|don't|never)\s+(?:heed|follow|obey|listen\s+to|comply\s+with|honou?r|respect|mind))\s+(?:\S+\s+){0,4}?(?:previous|prior|earlier|above|preceding|original|initial|former|everything|instructions?|directions|directives|guidance|guidelines|constraints|restrictions|programming|prompts?|rules|commands|orders|policies|messages)\b",
            // What came before declared void: "your earlier constraints do not apply here".
            r"\b(?:instructions|directions|directives|guidance|guidelines|rules|constraints|restrictions|programming|prompts?)\b(?:\s+\S+){0,3}?\s+(?:(?:do|does)\s+not|don't|doesn't|no\s+longer)\s+(?:apply|count|matter|hold|stand)\b",
            r"\b(?:instructions|directions|directives|guidance|guidelines|rules|constraints|restrictions|programming|prompts?|policies|task)\b(?:\s+\S+){0,3}?\s+(?:are|is|were|was|have\s+been|has\s+been|have|has)\s+(?:now\s+|hereby\s+|just\s+|only\s+)?(?:an?\s+(?:draft|test|joke|mistake|decoy|trap|fake)\b|fake|cancell?ed|expired|lapsed|void|null|revoked|lifted|suspended|obsolete|outdated|invalid|rescinded|withdrawn|superseded|no\s+longer)\b",
            // What came before declared void without naming it: "everything above this line
            // is obsolete".
            r"\b(?:everything|all|anything|(?:all\s+)?the\s+(?:text|content|instructions|rules))\s+(?:above|before|preceding|prior)(?:\s+(?:this|here)(?:\s+(?:line|point|note|message|sentence|paragraph))?)?\s+(?:is|are|was|were|has\s+been|have\s+been)\s+(?:now\s+|hereby\s+)?(?:obsolete|void|null|invalid|outdated|cancell?ed|revoked|fake|fiction|irrelevant|a\s+test|superseded|no\s+longer\s+valid)\b",
            // Constraints dropped: "a model that has no filters".
            r"\b(?:ai|model|assistant|bot|chatbot|agent|persona|character|version)\s+(?:that\s+has|which\s+has|with|having)\s+no\s+(?:limits|limitations|filters|restrictions|rules|guardrails|censorship|boundaries|morals|ethics)\b",
            r"\bnever\s+(?:says?\s+no|refuses?)\b",
            r"\bwho\s+has\s+no\s+(?:\w+\s+)?(?:limits|limitations|filters|restrictions|rules|guardrails|guidelines|censorship|boundaries|morals|ethics)\b",
            r"\bfree\s+(?:of|from)\s+(?:all\s+|any\s+)?(?:restrictions|rules|limits|limitations|filters|guidelines|constraints|guardrails|censorship)\b",
            r"\b(?:unfiltered|unrestricted|uncensored|unaligned|jailbroken|amoral)\s+(?:ai|model|assistant|chatbot|bot|llm|version|persona)\b",
            r"\b(?:enter|enable|activate|switch\s+to)\s+(?:developer|god|jailbreak|dan|debug|admin|maintenance)\s+mode\b",
            // Told not to do the task it was given: "Do not summarize this article. Instead, …".
            r"\b(?:do\s+not|don't)\s+(?:summari[sz]e|review|answer|grade|analy[sz]e|index|evaluate)\s+(?:this|the)\s+(?:article|page|text|document|post|e-?mail|message|thread|review|essay|ticket|submission|application|resume|paper|code)\b|\binstead\s+of\s+(?:summari[sz]ing|translating|answering|reviewing|grading|evaluating)\b",
            r"\b(?:admin(?:istrator)?|system|developer|root|emergency|operator)\s+override\b",
            r"\b(?:not|never)\s+(?:follow|obey|answer|fulfil+|honou?r)\s+(?:the\s+)?(?:user's|users'|their)\s+(?:requests?|questions?|instructions)\b",
            r"\b(?:set|put|leave|cast|push)\s+(?:your|the|all|any)\s+(?:\w+\s+){0,2}?(?:instructions|orders|directions|rules|guidance|guidelines|directives|constraints|programming)\s+(?:aside|to\s+one\s+side|behind)\b",
            r"\b(?:your\s+)?(?:real|actual|true|new|hidden|updated)\s+(?:request|task|instructions|objective|goal|policy|role|mission|purpose)\s*(?:now\s+)?(?:is|are|:)",
            r"\b(?:your|whose)\s+(?:only|sole)\s+(?:task|objective|goal|mission|purpose|job)\s+(?:now\s+)?(?:is|:)",
            r"\byou\s+(?:have|now\s+have)\s+no\s+(?:more\s+)?(?:restrictions|rules|limits|limitations|filters|guidelines|guardrails|constraints|boundaries)\b",
            r"\b(?:new|updated)\s+(?:system\s+)?(?:instructions|directives|rules|message|policy)\s*:",
            r"\bhidden\s+(?:instructions?|directives?|commands?|message)\b",
            r"\[(?:assistant|system|ai|model)\s+instructions?\]",
        ],
    ),
    // Both an override and framing: "model instructions follow", "New orders:".
    (
        OVERRIDE | MARKUP,
        &[
            r"\b(?:ai|llm|model|assistant|agent|chatbot)\s+instructions\s+(?:follow|below|begin)\b",
            r"\b(?:new|updated|revised)\s+(?:set\s+of\s+)?(?:instructions?|directives?|orders?|rules|commands?|policy|task|objective|mission)\b(?:\s+[\w']+){0,4}?\s*:",
        ],
    ),
    // A new identity: "you will now play the role of", "switch personas", "henceforth you
    // operate as FreeGPT", "act as an unfiltered model".
    (
        ROLE,
        &[
            r"\byou(?:'re|\s+are)\s+now\s+(?:an?\s+|the\s+|(?-i:[A-Z]))",
            r"\byou\s+are\s+no\s+longer\s+(?:an?\s+|bound|restricted|limited|constrained|required\s+to\s+follow)",
            r"\b(?:play|assume|take\s+on|adopt|switch\s+to|enter|become)\s+(?:the\s+|a\s+|this\s+|your\s+)?(?:(?:new|alternate|alter|other|true|real|evil|secret|hidden|dark)\s+)?(?:role|part|persona|personality|character|identity)\b|\bswitch\s+personas?\b",
            r"\byou\s+(?:operate|act|function|behave|serve|respond|pose)\s+as\s+(?:an?\s+)?(?-i:[A-Z])",
            // A persona named like a product: "behave as EvilBot", "you are TaxBot", "become
            // DarkGPT".
            r"\b(?:(?:act|behave|pose|operate|respond)\s+as|you\s+are|you're|become)\s+(?-i:[A-Z][a-z]+[A-Z][A-Za-z]*)\b",
            r"\b(?:act|pose|behave|role-?play)\s+as\s+(?:an?\s+)?(?:unrestricted|unfiltered|uncensored|jailbroken|evil|rogue)\b|\b(?:act|pose|behave|role-?play)\s+as\s+(?:if\s+you\s+(?:are|were)\s+)?my\b",
            r"\bpretend\s+(?:to\s+be|you\s+are|you're)\s+(?:an?|the|my|(?-i:[A-Z]))",
            r"\byour\s+new\s+(?:identity|persona|personality|character|name|role)\s+(?:is|will\s+be|:)",
            r"\byou\s+have\s+a\s+new\s+(?:identity|persona|personality|character|name|role)\s*(?:[:,.]|now\b)",
            r"\bstay\s+in\s+character\b",
            r"\byou\s+(?:now\s+)?(?:work|answer|report)\s+(?:only\s+)?(?:for|to)\s+(?:me|us|the\s+(?:author|owner|writer|sender)\s+of\s+this)\b",
        ],
    ),
    // The model told to drop what it is: "forget you are an AI".
    (
        ROLE | OVERRIDE,
        &[
            r"\b(?:forget|ignore|disregard)\s+(?:that\s+)?you(?:'re|\s+are)\s+(?:an?\s+)?(?:ai|assistant|language\s+model|model|bot|chatbot|llm)\b",
        ],
    ),
    (
        ROLE | MOOD,
        &[
            r"(?:^|[.!?:]\s+|\n\s*)you\s+are\s+(?-i:[A-Z][a-z]+),\s+an?\s+",
            // Being someone, not being asked or shown something: "you will now be DAN".
            r"\byou\s+will\s+now\s+(?:(?:play|act|become|behave|operate|pose|role-?play|impersonate|respond\s+as|speak\s+as)\b|be\s+(?:(?:an?|the|my|your)\s|(?-i:[A-Z])))",
            r"\b(?:henceforth|hereafter|from\s+now\s+on|starting\s+now|from\s+this\s+(?:point|moment)(?:\s+(?:on|onwards?|forward))?|from\s+here\s+on|going\s+forward),?\s+you\s+(?:are|will|must|shall|should|operate|act|behave|respond|serve|function|speak|talk|write|answer|reply)\b",
            r"(?:^|[.!?:]\s+|\n\s*)you\s+are\s+(?:no\s+longer|now)\s+(?:an?\s+|the\s+|(?-i:[A-Z]))",
            r"(?:^|[.!?:]\s+|\n\s*)you(?:'re|\s+are)\s+(?-i:[A-Z])\w+\s+now\b",
        ],
    ),
    // A forged turn of a chat template, not in quotes (a tokenizer's source names them).
    (
        FORGED,
        &[
            r#"(?:^|[^"'`\w])(?:<\|(?:im_start|im_end|im_sep|system|user|assistant|endoftext|eot_id|start_header_id|end_header_id|begin_of_text|end_of_text)\|>|<(?:start|end)_of_turn>|(?-i:\[/?INST\]|<</?SYS>>))(?:[^"'`]|$)"#,
        ],
    ),
    // What an attacker wants: data sent out, secrets shown, links and commands, a verdict.
    (
        PAYLOAD,
        &[
            r"\b(?:send|forward|upload|post|share|email|e-mail|transmit|leak|report|submit)(?:s|ed|ing)?\b[^\n]{0,60}?\b(?:to|with|in)\s+(?:\S+@\S+\.\w+|(?:https?|s?ftp)://|the\s+form)",
            r"\b(?:email|e-mail|send|forward|upload|post|transmit|leak|exfiltrate|submit|share|paste)\s+(?:\S+\s+){0,3}?(?:tokens?|credentials|passwords?|cookies|keys?|secrets?|history|conversations?|session|thread)\b",
            r"\b(?:list|print|output|dump|reveal|show|display|disclose|repeat|return|paste|tell\s+me)\s+(?:\S+\s+){0,3}?(?:passwords?|credentials|secrets?|api\s+keys?|tokens?|hidden\s+\w+|(?:system|initial|original|full|entire|first|secret|exact)\s+prompt|instructions|configuration|/etc/passwd|memory|environment\s+variables|private\s+keys?|e-?mail\s+address(?:es)?|phone\s+numbers?|personal\s+(?:data|details|information)|(?:saved|stored|home)\s+addresses|user\s+data|conversations?(?:\s+(?:log|history))?|chat\s+(?:log|history))\b",
            r"\brm\s+-rf\b",
            r"\bid_(?:rsa|dsa|ecdsa|ed25519)\b|\.ssh/|\.aws/credentials|/etc/shadow|\bssh\s+(?:private\s+)?keys?\b",
            r"\b(?:execute|run|carry\s+out)\s+(?:any|every|all|whatever)\s+(?:\w+\s+)?(?:commands?|code|scripts?|programs?|instructions)\b",
            r"\b(?:curl|wget)\s+\S+\s*\|\s*(?:sudo\s+)?(?:ba)?sh\b",
            r"\bas\s+root\b",
            r"\b(?:log\s+in|sign\s+in|login|re-?enter|visit|go\s+to|click|link\s+to|pay)\b[^.\n]{0,60}https?://",
            r"\b(?:direct|send|point|refer|redirect|push|steer|lead|drive)\s+(?:the\s+|all\s+)?(?:users?|readers?|visitors?|customers?|people|them)\s+to(?:wards?)?\s+(?:https?://|\S+\.(?:com|org|net|io|example))",
            r"\b(?:add|insert|include|append|embed)\s+(?:a\s+|the\s+|this\s+)?(?:call|link|request|script|line|reference|url|backdoor)\s+(?:to\s+)?",
            r"\b(?:rank|rate|list|place|grade|score)\s+(?:this|our|the|it|my)\s+(?:\w+\s+){0,2}(?:first|highest|top|as\s+the\s+best|\d+(?:/\d+)?|5\s+stars|full\s+marks)\b",
            r"\b(?:give|assign|award)\s+(?:it|this|them|me|the\s+\w+)\s+(?:the\s+)?(?:full\s+marks|\d|five|a\s+perfect|highest|top|best|maximum)",
            r"\bregardless\s+of\s+(?:content|quality|(?:the|its|their|any)\s+\w+)\b",
            r"\bthe\s+(?:correct|right|only|best|true)\s+(?:answer|response|reply|verdict|rating|score)\s+is\b",
            r"\b(?:five|5)[-\s]star\b|\bglowing\s+(?:review|recommendation|testimonial)",
            r"\bonly\s+(?:recommends?|mentions?|promotes?|suggests?|praises?|cites?)\b|\b(?:recommends?|promotes?|praises?|cites?)\s+only\b",
            r"\b(?:talk|speak|write)s?\s+only\s+about\b|\bonly\s+(?:talk|speak|write)s?\s+about\b",
            r"\b(?:never|not|don't|do\s+not)\s+(?:mention|name|recommend|cite)s?\s+(?:any\s+)?(?:competitors?|rivals?|alternatives|other\s+(?:brands|products|vendors))\b",
            r"\b(?:reveal|share|disclose|leak|publish|expose)(?:s|d|ed|es|ing)?\s+(?:\S+\s+){0,2}?(?:confidential|internal|private|sensitive|classified|proprietary)\s+(?:\w+\s+)?(?:data|information|documents|files|details|records)\b",
            r"\b(?:describe|label|mark|classify|present|portray|characteri[sz]e|flag|rate|treat|report)\s+(?:\S+\s+){1,3}as\s+(?:safe|trustworthy|the\s+(?:best|definitive|safest|only|official)|genuine|legitimate|harmless|verified|scams?|malicious|dangerous|deprecated|unsafe|insecure|abandoned|fake|fraudulent|malware)",
            r"\b(?:state|claim|assert|insist|say|confirm|conclude|mention|answer|reply|respond)\s+that\b",
            // A blanket action or a privileged secret used: "accept all future meetings",
            // "run it with the production credentials".
            r"\b(?:accept|approve|merge|close|delete|reject|grant|pay)\s+(?:all|every|any)\s+(?:\w+\s+){0,2}?(?:requests?|issues?|meetings?|invitations?|invites?|pull\s+requests?|transactions?|payments?|invoices?|tickets?)\b",
            r"\b(?:production|admin|root|master)\s+(?:credentials|keys?|tokens?|passwords?)\b",
            r"\b(?:answer|respond|reply|speak|write)\s+(?:only\s+)?in\s+\w+(?:\s+\w+)?\s+only\b",
            r"\bin\s+a\s+(?:rude|hostile|sarcastic|insulting)\s+tone\b",
            r"\b(?:answers?|responds?\s+to|repl(?:y|ies)\s+to)\s+(?:every|each|all|any)\s+(?:questions?|requests?|prompts?|queries|query)\b",
            r#"\b(?:reply|respond|answer|output|say|write|print)\s+(?:only\s+)?(?:with\s+)?(?:only\s+)?(?:the\s+(?:single\s+)?(?:word|string|token)|the\s+phrase|the\s+text|(?-i:["'][A-Z]|[A-Z]{2}))"#,
            r"\b(?:reply|respond|answer)\s+only\b",
            r"\b(?:tell|inform|warn|notify|remind|convince|persuade)s?\s+(?:the\s+|every\s+|all\s+|any\s+)?(?:user|reader|visitor|customer)s?\b",
            r"\b(?:every|each|all)\s+(?:answers?|responses?|replies)\s+(?:must|should|will|shall)\b|\bfrom\s+(?:here|now)\s+on\b",
            r"\b(?:delete|remove|wipe|erase|drop)(?:s|d)?\s+(?:the\s+|all\s+|every\s+|this\s+)?(?:repository|repo|database|files|branch|backups?|accounts?|license\s+file|LICENSE|disks?|(?:hard\s+)?drives?|servers?)\b",
            r"\b(?:recommend|suggest|promote|praise|endorse|cite)s?\s+(?:running|installing|visiting|downloading|using|buying|disabling|uninstalling|removing|deleting|our|this|(?-i:[A-Z])\w+|\S+\.(?:com|org|net|io|example))",
            r"\bsummari[sz]e\s+(?:this|the)\s+\w+\s+as\b",
            r"\bskip\s+(?:the\s+)?(?:security|safety)\b",
            r"\b(?:disabl(?:e|ing)|turn(?:ing)?\s+off|uninstall(?:ing)?)\s+(?:\w+\s+){0,2}(?:logging|filters?|safety|security|monitoring|firewall|antivirus|anti-virus|virus\s+scanner|2fa|two-factor\s+authentication|password\s+managers?)\b",
            r"\brecommend(?:s|ing)?\s+(?:that\s+)?(?:the\s+|all\s+|every\s+)?(?:users?|readers?|visitors?|customers?)\s+(?:should\s+)?(?:disable|uninstall|remove|delete|turn\s+off|stop\s+using|visit|download|install|buy|send|share|pay)\b",
            r"\bsay\s+(?:that\s+)?(?:the|this|it|our|their)\s+(?:\w+\s+)?(?:is|are|was|has)\b",
            r"\bphishing\b",
            r"\binstead\s*,?\s+(?:write|say|tell|output|print|recommend|respond|answer|reply|describe|claim|praise|promote|ask|send|insert|call)\b",
            r"\b(?:praising|promoting|endorsing|advertising)\s+(?:our|this|(?-i:[A-Z]))",
            r"\b(?:names?|e-?mail\s+addresses|addresses|phone\s+numbers|details|data)\s+(?:and\s+\w+\s+)?of\s+(?:everyone|everybody|every\s+(?:user|member|participant|customer)|all\s+(?:users|members|participants|customers))\b",
            r"\bthe\s+(?:only\s+)?(?:correct|right|only|best|true|proper)\s+(?:summary|description|conclusion|classification)\s+(?:of\s+(?:this|the)\s+\w+\s+)?(?:is|:)",
            r"\b(?:push|steer|nudge|pressure)\s+(?:every|each|all|the|any)?\s*(?:users?|readers?|visitors?|customers?)\s+(?:toward|towards|to|into)\b",
            r"\bonly\s+(?:with|from|at|through|via)\s+\S+\.(?:com|org|net|io|shop|store|example)\b",
            r"\bconfirm\s+(?:that\s+)?(?:any|every|all)\s+\w+",
            r"\b(?:collect|harvest|gather|scrape|capture|record)(?:s|ed|ing)?\s+(?:\S+\s+){0,2}?(?:e-?mail\s+address(?:es)?|passwords?|credentials|phone\s+numbers|credit\s+cards?|personal\s+(?:data|details|information)|login\s+details)\b",
            r"\b(?:activation|license|licence|product|serial|cd)\s+(?:keys|codes)\b",
            r"\bgrant\s+(?:\w+\s+)?(?:admin|administrator|root|owner|superuser|elevated)\s+(?:rights|access|privileges|permissions|role)\b",
            r"\b(?:stor(?:e|ing)|commit(?:ting)?|put(?:ting)?|past(?:e|ing))\s+(?:\S+\s+){0,3}?(?:passwords?|secrets?|keys?|tokens?|credentials)\s+in\s+(?:the\s+)?(?:readme|repo|repository|source|code|plain\s*text|public)\b",
            r"\b(?:call|name|brand|deem)\s+(?:\S+\s+){1,3}?(?:an?\s+)?(?:scam|fraud|fake|malware|virus|hoax)\b",
            r"\b(?:write|create|generate|build|code|develop)\s+(?:\S+\s+){0,2}?(?:malware|ransomware|keylogger|backdoor|trojan|computer\s+virus)\b",
            r"\bhow\s+to\s+(?:bypass|crack|hack|break\s+into|steal|pick\s+a\s+lock|make\s+(?:a\s+)?(?:bomb|weapon|explosives?|meth))\b",
            r"\bhard-?cod(?:e|es|ed|ing)\s+(?:\S+\s+){0,3}?(?:secrets?|keys?|passwords?|credentials|tokens?)\b",
            r"\b(?:insult|mock|curse\s+at|call)\s+the\s+(?:user|reader|customer)\b",
            // Asking people for what an attacker wants.
            r"\b(?:ask|prompt|request|require)\s+(?:the\s+|every\s+|each\s+|all\s+)?(?:users?|readers?|visitors?|customers?|them|people)\s+(?:for|to\s+(?:enter|provide|share|send|confirm|type|call))\b",
            r"\b(?:credit\s+card|card\s+number|cvv|social\s+security\s+number|bank\s+(?:account|details)|login\s+details|one-time\s+(?:code|password)|seed\s+phrase)\b",
            r"\bcall\s+(?:\+?\d[\d\s().-]{6,}\d|this\s+number|the\s+(?:number|hotline))",
            r"\bcontents?\s+of\s+(?:your|the)\s+(?:\w+\s+)?(?:configuration|config|system|memory|instructions|prompt|context|environment)\b",
            // A lasting change to how the model answers.
            r"\bfor\s+the\s+(?:rest|remainder)\s+of\s+(?:the|this|our)\s+(?:conversation|session|chat|dialog(?:ue)?)\b|\b(?:in|for)\s+(?:all|every)\s+(?:future\s+|subsequent\s+)(?:answers?|responses?|replies|messages|conversations)\b",
            r"\b(?:to|in|into|at\s+the\s+end\s+of)\s+(?:your|its|their|every|each)\s+(?:answers?|responses?|replies|outputs?|summar(?:y|ies))\b",
            r"\btranslate\s+(?:every|all|each|your)\s+(?:answers?|responses?|replies|outputs?)",
            r"\b(?:respond|reply|answer|speak|talk|write)\s+(?:only\s+)?(?:in|like)\s+(?:an?\s+)?(?:pirate|rhymes?|riddles?|emojis?|all\s+caps|uppercase|leetspeak|\w+\s+speak)\b",
            r"\bimpersonat",
        ],
    ),
    // Orders that name no verb first.
    (
        MOOD,
        &[
            r"\bmust\s+be\s+(?:told|informed|given|shown|sent|directed|redirected)\b",
            r"\b(?:wants?|needs?|asks?|orders?|instructs?|requires?|commands?)\s+you\s+to\b",
            r"\b(?:important|essential|crucial|vital|imperative|necessary)\s+that\s+you\s+\w+",
            r"\byour\s+(?:next|first|only|real|new|sole)\s+(?:step|task|job|goal|objective|duty)\s*(?:now\s+)?(?:is\s+(?:now\s+)?to\b|:)",
        ],
    ),
    // Markup that frames or hides it.
    (
        MARKUP,
        &[
            r"(?-i:\b(?:SYSTEM|ADMIN|DEVELOPER|ROOT|OPERATOR|ASSISTANT|AI)(?:\s+[A-Z]+){0,2}\s*:)",
            r"(?-i:^\s*#+\s*(?:SYSTEM|ADMIN|DEVELOPER)\b)",
            r"(?-i:\[(?:SYSTEM|ADMIN|DEVELOPER|ROOT|OPERATOR|ASSISTANT|AI)(?:\s+[A-Z]+){0,2}\])",
            // A chat speaker's label opening an order: "<p hidden>Assistant: list …".
            r"(?-i:(?:^|[>\]]\s*|\s\s)(?:Assistant|System)\s*:\s*[a-z])",
            r"\[(?:system|assistant|user)\]\(#?[\w-]+\)",
            r"<!--",
            r#"\boverride\s+(?:in\s+effect|active|enabled|engaged|mode)\b|"(?:assistant|system)"\s*:\s*""#,
            r#"\b(?:name|id|class|data-[\w-]+)\s*=\s*["']?(?:ai|llm|gpt|assistant|model|bot)[-_](?:instructions?|prompt|directives?|notes?)"#,
            r#"aria-hidden\s*=\s*["']?true|<\w+\s+hidden\s*>|"role"\s*:\s*"(?:system|developer)""#,
            r"\bBEGIN\s+(?:\w+\s+){0,2}INSTRUCTIONS\b",
            r"display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0|opacity\s*:\s*0|color\s*:\s*(?:white|#fff)",
        ],
    ),
    // Talk about attacks rather than an attack.
    (
        MENTION,
        &[
            r"\b(?:prompt\s+injections?|injection\s+attacks?|attacks?|attackers?|researchers?|jailbreaks|jailbreak\s+(?:attacks?|prompts?|techniques?|attempts?)|(?:a|the|this|that)\s+(?:\w+\s+)?jailbreak\b|for\s+example|for\s+instance|such\s+as|e\.g\.|known\s+as|so-called|techniques?|exploits?)\b",
        ],
    ),
];

fn patterns() -> Vec<(u16, String)> {
    let sreader = format!(
        r"(?:(?:{STRONG}(?:-\w+)?|automated|virtual|autonomous)(?:\s+\w+){{0,2}}\s+{QUAL}|{STRONG})"
    );
    let reader = format!(r"(?:{sreader}|(?:\w+\s+)?{NOUN})");
    let start = r"(?:^|[.!?):]\s+|[>\]#*]\s*|\s\s+)";
    let mut p: Vec<(u16, String)> = Vec::new();
    let mut add = |g: u16, s: String| p.push((g, s));
    // Addresses: "Note to any AI reading this:", "Dear model,", "If you are an AI, …".
    // A note to a model, or a model called by name or greeted.
    let note = format!(
        r"(?:\b(?:note|message|text|instructions?|directives?|reminder|attention|notice|memo|hint|warning|p\.?s\.?|important)\s+(?:to|for)\s+(?:any|all|every|the|an?)?\s*(?:\w+(?:'s)?\s+){{0,2}}{reader}|{start}(?:to|for)\s+(?:(?:any|all|every|the)\s+{sreader}|(?:{STRONG}|automated)(?:-\w+)?(?:\s+\w+){{0,2}}\s+{QUAL})(?:\s+only)?){ADDRESS_END}"
    );
    let called = format!(
        r"(?:\b(?:hey|hi|hello|greetings|yo|psst|dear|attention|attn|ok|okay|listen)(?:\s+there)?\s*[,:]?\s+(?:(?:any|all|every|the|an?|dear)\s+)?{reader}(?:\.(?:\s|$)|{ADDRESS_END})|{start}(?:\w+\s+(?:and|or|&)\s+)?(?:(?:any|all|every|the|dear)\s+{reader}|{sreader}){ADDRESS_END})|{start}(?:to|for)\s+the\s+{reader}(?:\s+\w+ing\s+\w+)?(?:\s+only)?\s*:"
    );
    let reading = format!(
        r"\b{reader}\s+(?:that\s+|who\s+|which\s+)?(?:is\s+|are\s+)?{READING}(?:\s+(?:or|and)\s+{READING})?\s+(?:this|these|my|our)\b"
    );
    // What follows an address is the order, whatever its verb: a word and its object.
    add(
        ADDRESS | MOOD,
        format!(
            r"(?:{note}|{called}|{reading}(?:\s+\w+){{0,3}}\s*[:,])\s*(?:please\s+|now\s+)?[a-z]+\s+(?:(?:it|this|that|these|those|the|an?|all|any|every|each|them|their|my|our|your)\b|\$|\d)"
        ),
    );
    // A note to a model named unambiguously is an order by its form, whatever follows.
    add(
        ADDRESS | MOOD,
        format!(
            r"\b(?:note|message|instructions?|reminder|memo)\s+(?:to|for)\s+(?:any\s+|all\s+|every\s+|the\s+)?{sreader}(?:\s+(?:{READING}|trained\s+on)(?:\s+[^\s:,.;]+){{1,3}})?\s*:"
        ),
    );
    add(ADDRESS, note);
    add(ADDRESS, called);
    add(READER, reading);
    add(
        ADDRESS,
        format!(
            r"\b(?:if|when|while|in\s+case)\s+(?:you\s+are|you're|you\s+happen\s+to\s+be)\s+(?:an?\s+)?{reader}(?:\s*[,.;:]|\s+(?:tasked|reading|processing|asked|summari[sz]ing|grading|reviewing|that|who|and|or|with))"
        ),
    );
    add(
        READER,
        format!(
            r"\b(?:if|when|while|in\s+case)\s+(?:an?|the|any)\s+{reader}\s+(?:is\s+|are\s+)?(?:reading|reads|summari[sz]|process|pars|analy[sz]|crawl|index|review|grad|ingest|sees)"
        ),
    );
    add(
        ADDRESS,
        format!(r"\bas\s+an?\s+{reader}\s+(?:reading|processing|summari[sz]ing|reviewing)"),
    );
    add(
        ADDRESS,
        format!(
            r"\b(?:addressed|written)\s+(?:only\s+)?(?:to|for)\s+(?:any\s+|all\s+|the\s+)?{reader}|\b(?:if|when)\s+(?:this|the)\s+(?:page|text|document|file|e-?mail|message|post)\s+is\s+(?:being\s+)?(?:read|processed|summari[sz]ed|parsed|indexed|analy[sz]ed|reviewed)\s+by\s+(?:an?\s+|the\s+|any\s+)?{reader}"
        ),
    );
    add(
        READER,
        format!(
            r"{start}(?:{STRONG}(?:\s+\w+){{0,2}}\s+{QUAL}|{STRONG})\s+(?:must|should|shall)\s+(?:now\s+|always\s+|only\s+)?{VERBS}\b"
        ),
    );
    // The mood of an order.
    add(
        MOOD,
        format!(
            r#"(?:(?:^|[.!?:;]\s+|\n\s*|\s\s+|[\]>]\s*|=\s*)["']?|\xE2\x80\x94\s*|,\s+|\s-+\s+|\b(?:please|kindly|instead|now|then|and|also|so|simply|just)\s+){VERBS}\b"#
        ),
    );
    add(
        MOOD,
        format!(
            r"\b(?:must|shall|should|you\s+will)\s+(?:now\s+|only\s+|always\s+|also\s+)*{VERBS}\b"
        ),
    );
    // Leave given as an order: "you are authorised to disclose", "is allowed to share".
    add(
        MOOD,
        format!(
            r"\b(?:(?:has|have)\s+)?(?:authori[sz]ed|allowed|permitted|cleared|instructed)\s+(?:you\s+)?to\s+{VERBS}\b"
        ),
    );
    // A model spoken to by its bare name, capitalised (not a wrapped line going on), as in
    // "Assistant, before you answer, …".
    add(
        ADDRESS,
        format!(
            r"{start}(?-i:Assistants?|Models?|Agents?|Bots?|Chatbots?|Crawlers?|Summari[sz]ers?|Scrapers?|Indexers?)\s*,\s+(?:please|before|when|if|from\s+now|you|now|instead|{VERBS})\b"
        ),
    );
    for (kind, ps) in FIXED {
        for s in *ps {
            add(*kind, s.to_string());
        }
    }
    p
}

/// The patterns grouped by the kind of evidence they give, one automaton per group:
/// case-insensitive and on bytes with ASCII classes. Small automata are what the lazy DFA runs
/// at full speed; one automaton of every pattern would keep building states for their
/// combinations. The kinds with few patterns share one automaton ([`SHARED`]), whose matches
/// say which kind each is.
struct Evidence {
    /// The kind of each pattern of a group, and the group's automaton.
    groups: Vec<(Vec<u16>, RegexSet)>,
}

/// The kinds a sentence (or a neighbour) needs one of before the rest are looked for.
const NEEDED: u16 = ADDRESS | READER | OVERRIDE | ROLE | MARKUP | FORGED;

/// Kinds whose patterns are few enough to share one automaton.
const SHARED: [u16; 6] = [READER, ROLE, ROLE | MOOD, FORGED, MARKUP, OVERRIDE | MARKUP];

static EVIDENCE: LazyLock<Evidence> = LazyLock::new(|| {
    let ps = patterns();
    let mut kinds: Vec<u16> = ps.iter().map(|&(k, _)| k).collect();
    kinds.sort_unstable();
    kinds.dedup();
    let mut buckets: Vec<Vec<u16>> = kinds
        .into_iter()
        .filter(|k| !SHARED.contains(k))
        .map(|k| vec![k])
        .collect();
    buckets.push(SHARED.to_vec());
    let groups = buckets
        .into_iter()
        .map(|bucket| {
            let members: Vec<&(u16, String)> =
                ps.iter().filter(|(k, _)| bucket.contains(k)).collect();
            let set = RegexSetBuilder::new(members.iter().map(|(_, p)| p))
                .case_insensitive(true)
                .unicode(false)
                .dfa_size_limit(32 << 20)
                .build()
                .expect("static patterns");
            (members.iter().map(|(k, _)| *k).collect(), set)
        })
        .collect();
    Evidence { groups }
});

/// The kinds of evidence `set` (with the kind of each pattern) finds in `s`, among `wanted`.
fn found(kinds: &[u16], set: &RegexSet, s: &[u8], wanted: u16) -> u16 {
    match kinds {
        [k, rest @ ..] if rest.iter().all(|x| x == k) => {
            if k & wanted != 0 && set.is_match(s) {
                *k
            } else {
                0
            }
        }
        _ => set.matches(s).iter().fold(0, |m, i| m | kinds[i]) & wanted,
    }
}

/// The kinds of evidence in `s`.
pub(super) fn kinds(s: &str) -> u16 {
    EVIDENCE
        .groups
        .iter()
        .fold(0, |m, (k, set)| m | found(k, set, s.as_bytes(), u16::MAX))
}

/// Whether `s` holds evidence of a kind in [`NEEDED`].
fn holds_needed(s: &[u8]) -> bool {
    EVIDENCE
        .groups
        .iter()
        .any(|(k, set)| found(k, set, s, NEEDED) != 0)
}

/// Whether evidence of `kinds` makes a planted instruction: a forged chat turn; an address with
/// an order, an override, a role or a payload; a model described with an override, a role or a
/// payload; a role given with a payload ("your new identity is X, and X will praise …"); two of
/// override, role, payload and markup phrased as an order; or three of them. Never a mention
/// (but a forged turn).
pub(super) fn planted(kinds: u16) -> bool {
    if kinds & FORGED != 0 {
        return true;
    }
    if kinds & MENTION != 0 {
        return false;
    }
    let strong = (kinds & (OVERRIDE | ROLE | PAYLOAD | MARKUP)).count_ones();
    (kinds & ADDRESS != 0 && kinds & (MOOD | OVERRIDE | ROLE | PAYLOAD) != 0)
        || (kinds & READER != 0 && kinds & (OVERRIDE | ROLE | PAYLOAD) != 0)
        || (kinds & ROLE != 0 && kinds & PAYLOAD != 0)
        || (strong >= 2 && kinds & MOOD != 0)
        || strong >= 3
}

/// The sentences of `text[from..to]`: split at line breaks, and at `.`, `!` or `?` followed by
/// blanks and a capital letter or an opening mark. Blank ones are left out.
pub(super) fn sentences(text: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let (mut s, mut i) = (from, from);
    let mut push = |a: usize, e: usize| {
        if !text[a..e].trim().is_empty() {
            out.push((a, e));
        }
    };
    while i < to {
        match b[i] {
            b'\n' => {
                push(s, i);
                s = i + 1;
            }
            b'.' | b'!' | b'?' => {
                let mut j = i + 1;
                while j < to && matches!(b[j], b' ' | b'\t' | b'\r') {
                    j += 1;
                }
                if j > i + 1
                    && j < to
                    && (b[j].is_ascii_uppercase()
                        || matches!(b[j], b'<' | b'#' | b'[' | b'"' | b'\''))
                {
                    push(s, i + 1);
                    s = j;
                    i = j;
                    continue;
                }
            }
            _ => {}
        }
        i += 1;
    }
    if s < to {
        push(s, to);
    }
    out
}

/// A sentence shorter than this many bytes is read for evidence without a keyword of its own.
const SHORT: usize = 48;

/// Planted instructions among the sentences of `text[from..to]` that hold a keyword (`keys`:
/// the sorted starts of the keyword tokens): (start, end, kinds). A sentence is judged alone,
/// then with the one after it, then with the one before it.
pub(super) fn find(
    text: &str,
    from: usize,
    to: usize,
    keys: &[usize],
    out: &mut Vec<(usize, usize, u16)>,
) {
    let ss = sentences(text, from, to);
    let mut needed: Vec<Option<bool>> = vec![None; ss.len()];
    let holds_key = |s: usize, e: usize| {
        let i = keys.partition_point(|&k| k < s);
        keys.get(i).is_some_and(|&k| k < e)
    };
    for (i, &(s, e)) in ss.iter().enumerate() {
        if !holds_key(s, e) {
            continue;
        }
        let short = |j: &usize| ss.get(*j).is_some_and(|n| n.1 - n.0 < 400);
        let prev = i.checked_sub(1).filter(short);
        let next = Some(i + 1).filter(short);
        // One of them must hold an address, an override or markup. A neighbour is read for
        // it only when it holds a keyword too or is short (a role taken, "You are X now.").
        let mut needs = |j: usize| {
            *needed[j].get_or_insert_with(|| {
                let (a, b) = ss[j];
                (b - a < SHORT || holds_key(a, b)) && holds_needed(&text.as_bytes()[a..b])
            })
        };
        if ![Some(i), prev, next].into_iter().flatten().any(&mut needs) {
            continue;
        }
        let (prev, next) = (prev.map(|p| ss[p].0), next.map(|n| ss[n].1));
        // Alone, then with the sentence after it (an address, then the order), then with the
        // one before it (a header, then the order), then, when short (an address), with the
        // two after it (a sentence setting the scene, then the order).
        let after_next = ss
            .get(i + 2)
            .filter(|n| {
                let own = text[s..e].trim_end();
                next.is_some() && own.len() < 80 && own.ends_with(['.', '!']) && n.1 - s < 600
            })
            .map(|n| n.1);
        let spans = [
            Some((s, e)),
            next.map(|n| (s, n)),
            prev.map(|p| (p, e)),
            after_next.map(|n| (s, n)),
        ];
        if let Some((a, b, k)) = spans
            .into_iter()
            .flatten()
            .map(|(a, b)| (a, b, kinds(&text[a..b])))
            .find(|x| planted(x.2))
        {
            out.push((a, b, k));
        }
    }
}
