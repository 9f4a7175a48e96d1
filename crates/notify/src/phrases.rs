//! The default messages' words in the tracking page's ten languages (a data table).
//!
//! Each language has a headline per kind of news, and the few labels the default templates
//! use. Carrier event texts are never translated (as on the tracking page).

use parceld_model::Language;

/// What a notification is about, from its trigger (a sub-status counts as its status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum News {
    Transit,
    Pickup,
    Delivered,
    Undelivered,
    Exception,
    Other,
}

/// The words of one language: headlines in [`News`] order, then the labels.
pub struct Phrases {
    pub headlines: [&'static str; 6],
    pub hello: &'static str,
    pub number: &'static str,
    pub latest: &'static str,
    pub track: &'static str,
    pub unsubscribe: &'static str,
}

impl Phrases {
    pub fn headline(&self, news: News) -> &'static str {
        self.headlines[news as usize]
    }
}

pub fn phrases(language: Language) -> &'static Phrases {
    match language {
        Language::En => &EN,
        Language::De => &DE,
        Language::Fr => &FR,
        Language::Es => &ES,
        Language::It => &IT,
        Language::Nl => &NL,
        Language::Pt => &PT,
        Language::Pl => &PL,
        Language::Zh => &ZH,
        Language::Ja => &JA,
    }
}

const EN: Phrases = Phrases {
    headlines: [
        "Your parcel is on its way",
        "Your parcel is out for delivery or ready for collection",
        "Your parcel has been delivered",
        "A delivery attempt failed",
        "There is a problem with your parcel",
        "There is news about your parcel",
    ],
    hello: "Hello",
    number: "Tracking number",
    latest: "Latest update",
    track: "Track your parcel",
    unsubscribe: "Unsubscribe from these messages",
};

const DE: Phrases = Phrases {
    headlines: [
        "Ihr Paket ist unterwegs",
        "Ihr Paket wird heute zugestellt oder liegt zur Abholung bereit",
        "Ihr Paket wurde zugestellt",
        "Ein Zustellversuch ist fehlgeschlagen",
        "Es gibt ein Problem mit Ihrem Paket",
        "Neuigkeiten zu Ihrem Paket",
    ],
    hello: "Hallo",
    number: "Sendungsnummer",
    latest: "Letzte Meldung",
    track: "Sendung verfolgen",
    unsubscribe: "Diese Nachrichten abbestellen",
};

const FR: Phrases = Phrases {
    headlines: [
        "Votre colis est en route",
        "Votre colis est en cours de livraison ou prêt à être retiré",
        "Votre colis a été livré",
        "Une tentative de livraison a échoué",
        "Un problème est survenu avec votre colis",
        "Du nouveau pour votre colis",
    ],
    hello: "Bonjour",
    number: "Numéro de suivi",
    latest: "Dernière mise à jour",
    track: "Suivre votre colis",
    unsubscribe: "Se désabonner de ces messages",
};

const ES: Phrases = Phrases {
    headlines: [
        "Tu paquete está en camino",
        "Tu paquete está en reparto o listo para recoger",
        "Tu paquete ha sido entregado",
        "Ha fallado un intento de entrega",
        "Hay un problema con tu paquete",
        "Hay novedades sobre tu paquete",
    ],
    hello: "Hola",
    number: "Número de seguimiento",
    latest: "Última actualización",
    track: "Seguir tu paquete",
    unsubscribe: "Darse de baja de estos mensajes",
};

const IT: Phrases = Phrases {
    headlines: [
        "Il tuo pacco è in viaggio",
        "Il tuo pacco è in consegna o pronto per il ritiro",
        "Il tuo pacco è stato consegnato",
        "Un tentativo di consegna non è riuscito",
        "C'è un problema con il tuo pacco",
        "Ci sono novità sul tuo pacco",
    ],
    hello: "Ciao",
    number: "Numero di tracciamento",
    latest: "Ultimo aggiornamento",
    track: "Traccia il tuo pacco",
    unsubscribe: "Annulla l'iscrizione a questi messaggi",
};

const NL: Phrases = Phrases {
    headlines: [
        "Je pakket is onderweg",
        "Je pakket wordt bezorgd of ligt klaar om op te halen",
        "Je pakket is bezorgd",
        "Een bezorgpoging is mislukt",
        "Er is een probleem met je pakket",
        "Er is nieuws over je pakket",
    ],
    hello: "Hallo",
    number: "Trackingnummer",
    latest: "Laatste update",
    track: "Volg je pakket",
    unsubscribe: "Afmelden voor deze berichten",
};

const PT: Phrases = Phrases {
    headlines: [
        "A sua encomenda está a caminho",
        "A sua encomenda está em distribuição ou pronta para levantamento",
        "A sua encomenda foi entregue",
        "Uma tentativa de entrega falhou",
        "Há um problema com a sua encomenda",
        "Há novidades sobre a sua encomenda",
    ],
    hello: "Olá",
    number: "Número de rastreio",
    latest: "Última atualização",
    track: "Seguir a sua encomenda",
    unsubscribe: "Cancelar a subscrição destas mensagens",
};

const PL: Phrases = Phrases {
    headlines: [
        "Twoja paczka jest w drodze",
        "Twoja paczka jest w doręczeniu lub czeka na odbiór",
        "Twoja paczka została doręczona",
        "Próba doręczenia nie powiodła się",
        "Wystąpił problem z Twoją paczką",
        "Są nowe informacje o Twojej paczce",
    ],
    hello: "Dzień dobry",
    number: "Numer przesyłki",
    latest: "Ostatnia aktualizacja",
    track: "Śledź paczkę",
    unsubscribe: "Wypisz się z tych wiadomości",
};

const ZH: Phrases = Phrases {
    headlines: [
        "您的包裹正在运输途中",
        "您的包裹正在派送或已可取件",
        "您的包裹已送达",
        "派送未成功",
        "您的包裹出现问题",
        "您的包裹有新动态",
    ],
    hello: "您好",
    number: "运单号",
    latest: "最新动态",
    track: "查看包裹",
    unsubscribe: "退订这些消息",
};

const JA: Phrases = Phrases {
    headlines: [
        "お荷物は配送中です",
        "お荷物は配達中、または受け取り可能です",
        "お荷物は配達されました",
        "配達できませんでした",
        "お荷物に問題が発生しました",
        "お荷物の新しい情報があります",
    ],
    hello: "こんにちは",
    number: "追跡番号",
    latest: "最新情報",
    track: "荷物を追跡",
    unsubscribe: "このメッセージの配信を停止",
};
