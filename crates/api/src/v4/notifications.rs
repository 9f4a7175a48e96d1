//! `/v4/notifications/…`: an account's notifications to its customers (a parceld extension of
//! the TrackingMore v4 API): its settings, its message templates with a preview, and each
//! tracking's notification log.
//!
//! Handlers parse the request and call `parceld_service` (`notifications`, the rules `parceld
//! notifications set` also applies; `notification_templates`; `notification_log`). A refused
//! setting is 4190, a template that does not compile or render 4191 with its line and reason, an
//! unknown part, trigger or language 4192; none of them changes anything.

use axum::extract::Path;
use parceld_service::notification_log::notification_log;
use parceld_service::notification_templates::{
    own_templates, preview, remove_template, save_template, template, template_key, Preview,
    PreviewInput, TemplateInput, TemplateKey, TemplateView,
};
use parceld_service::notifications::{notification_settings, NotificationSettingsView};
use parceld_service::{NotificationSettingsInput, ServiceError};
use parceld_store::notifications::NotificationInfo;
use serde::Deserialize;
use utoipa::IntoParams;

use super::wire::Envelope;
use super::{ok, ApiResult};
use crate::extract::{parse_json, RawBody};
use crate::ClassedRoutes;

/// This module's routes, in the v4 "other" rate-limit class.
pub fn routes() -> ClassedRoutes {
    classed_routes!(V4Other: (show_settings, update_settings) (list_templates) (show_template, save, remove) (render_preview) (log))
}

/// The template a path names.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct TemplatePath {
    /// A delivery status (`delivered`) or sub-status (`transit002`), or `all`
    trigger: String,
    /// en, de, fr, es, it, nl, pt, pl, zh, ja, or `all`
    language: String,
    /// subject, html, text or sms
    part: String,
}

impl TemplatePath {
    fn key(&self) -> Result<TemplateKey, ServiceError> {
        template_key(&self.trigger, &self.language, &self.part)
    }
}

/// The tracking a log path names.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct LogPath {
    /// The tracking's id, as create returned it
    id: String,
}

route! {
    /// Read the account's notification settings.
    get "/v4/notifications/settings" "getNotificationSettings",
    responses(200 "The settings, defaults filled in" => Envelope<NotificationSettingsView>),
    async fn show_settings(state, account) -> ApiResult<NotificationSettingsView> {
        ok(notification_settings(&*state.store, account.id).await?)
    }
}

route! {
    /// Change the account's notification settings; only the fields sent change.
    put "/v4/notifications/settings" "updateNotificationSettings", body NotificationSettingsInput,
    responses(200 "The settings now in force" => Envelope<NotificationSettingsView>, 400 "4190 a value is not acceptable, 4130 an unknown field, 400 not JSON"),
    async fn update_settings(state, account, RawBody(body): RawBody) -> ApiResult<NotificationSettingsView> {
        let request: NotificationSettingsInput = parse_json(&body)?;
        ok(request.store(&*state.store, account.id).await?)
    }
}

route! {
    /// The account's own templates.
    get "/v4/notifications/templates" "listNotificationTemplates",
    responses(200 "The templates the account set, in key order" => Envelope<Vec<TemplateView>>),
    async fn list_templates(state, account) -> ApiResult<Vec<TemplateView>> {
        ok(own_templates(&*state.store, account.id).await?)
    }
}

/// Declares a route on one template (`/v4/notifications/templates/{trigger}/{language}/{part}`)
/// without a body: its handler answers with what `$answer` (a `parceld_service` function of
/// the store, the account and the template's key) makes of it.
macro_rules! template_route {
    ($(#[$doc:meta])* $method:ident $operation:tt, $description:tt, fn $name:ident => $answer:path) => {
        route! {
            $(#[$doc])*
            $method "/v4/notifications/templates/{trigger}/{language}/{part}" $operation, params(TemplatePath),
            responses(200 $description => Envelope<TemplateView>, 400 "4192 unknown part, trigger or language"),
            async fn $name(state, account, Path(path): Path<TemplatePath>) -> ApiResult<TemplateView> {
                ok($answer(&*state.store, account.id, &path.key()?).await?)
            }
        }
    };
}

template_route! {
    /// One template: the one messages of this trigger, language and part are written with
    /// (the account's most specific, else parceld's default).
    get "getNotificationTemplate", "The template and where it comes from", fn show_template => template
}

template_route! {
    /// Delete the account's template; messages use the next most specific one again.
    delete "deleteNotificationTemplate", "The template that applies now", fn remove => remove_template
}

route! {
    /// Save a template, checked first: one that does not compile or render against a sample
    /// tracking is refused with its line and reason, and nothing is saved.
    put "/v4/notifications/templates/{trigger}/{language}/{part}" "saveNotificationTemplate", params(TemplatePath), body TemplateInput,
    responses(200 "The saved template" => Envelope<TemplateView>, 400 "4191 the template is invalid (its line and reason), 4192 unknown part, trigger or language, 4130 an unknown field, 400 not JSON"),
    async fn save(state, account, Path(path): Path<TemplatePath>, RawBody(body): RawBody) -> ApiResult<TemplateView> {
        let key = path.key()?;
        let request: TemplateInput = parse_json(&body)?;
        ok(save_template(&*state.store, account.id, &key, &request.source).await?)
    }
}

route! {
    /// Render a message for a sample tracking with the account's branding: its saved
    /// templates, or those in the body instead (checked as saving them would).
    post "/v4/notifications/preview" "previewNotification", body PreviewInput,
    responses(200 "The message's subject, HTML and text parts and its text message" => Envelope<Preview>, 400 "4191 a template is invalid (its line and reason), 4192 unknown trigger or language, 4130 an unknown field, 400 not JSON"),
    async fn render_preview(state, account, RawBody(body): RawBody) -> ApiResult<Preview> {
        let request: PreviewInput = parse_json(&body)?;
        ok(preview(&*state.store, account.id, &account.name, &request).await?)
    }
}

route! {
    /// A tracking's notifications, oldest first: trigger, channel, state, attempts, the
    /// server's last answer; the customer's address masked.
    get "/v4/notifications/trackings/{id}" "getNotificationLog", params(LogPath),
    responses(200 "The tracking's notification log" => Envelope<Vec<NotificationInfo>>, 400 "4102 no such tracking, 4112 not a tracking id"),
    async fn log(state, account, Path(LogPath { id }): Path<LogPath>) -> ApiResult<Vec<NotificationInfo>> {
        ok(notification_log(&*state.store, account.id, &id).await?)
    }
}
