# ruff: noqa: RUF001 - Russian text is meant to be Cyrillic
"""Built-in message templates in English, Russian and Spanish: the last step of the lookup, so
every event renders even on an empty database. Staff override them with ``MessageTemplate`` rows.

Each event has a subject and a core message per language. The in-panel notification shows them
as they are; the email wraps the message in a greeting and a signature (staff email: no
greeting). Dates are shown as ISO dates, which read the same in every language.
"""

from __future__ import annotations

from billow.notifications.events import STAFF_EVENTS

DEFAULT_LOCALE = "en"

_GREETING = {
    "en": "Hello {{ client.contact_person|default:client.name }},",
    "ru": "Здравствуйте, {{ client.contact_person|default:client.name }}!",
    "es": "Hola, {{ client.contact_person|default:client.name }}:",
}
_ACCOUNT = {"en": "Your account", "ru": "Личный кабинет", "es": "Su cuenta"}

# A date given as a date renders as an ISO date; one given as text is shown as it is.
_D = '{% firstof expires_at|date:"Y-m-d" expires_at %}'
_R = '{% firstof renews_on|date:"Y-m-d" renews_on %}'
_E = '{% firstof ends_on|date:"Y-m-d" ends_on %}'
_ERR = "{% if code %}: {{ code }}{% endif %}{% if message %} ({{ message }}){% endif %}"
_LINK = "{% if link %}\n{{ link }}{% endif %}"
_ISSUED = '{% firstof issued_on|date:"Y-m-d" issued_on %}'
_DUE = '{% firstof due_on|date:"Y-m-d" due_on %}'

#: (event, locale) -> (subject, message)
MESSAGES: dict[tuple[str, str], tuple[str, str]] = {
    # --- English ---------------------------------------------------------------------------
    ("service_opened", "en"): (
        "Your service {{ service_name }} is ready",
        "Your service {{ service_name }} has been opened"
        "{% if expires_at %} and is paid until " + _D + "{% endif %}."
        "{% if amount %} Charged: {{ amount }}.{% endif %}",
    ),
    ("renewal_coming", "en"): (
        "Service {{ service_name }} will be renewed on " + _R,
        "Your service {{ service_name }} is paid until " + _R + "."
        "{% if amount %} The renewal costs {{ amount }}; please make sure your balance covers it."
        "{% endif %}",
    ),
    ("trial_ending", "en"): (
        "The trial of {{ service_name }} ends on " + _E,
        "The free trial of your service {{ service_name }} ends on " + _E + "."
        "{% if converts_to %} It then continues as a paid service"
        "{% if amount %} for {{ amount }}{% endif %}; please make sure your balance covers it,"
        " or the service will be suspended.{% else %} Turn on auto-renewal to keep it; otherwise"
        " it will be suspended.{% endif %}",
    ),
    ("low_balance", "en"): (
        "Low balance on your account",
        "Your balance is {{ available }}."
        "{% if needed %} Your services need {{ needed }} to keep running.{% endif %}"
        " Please top up your balance.",
    ),
    ("service_suspended", "en"): (
        "Service {{ service_name }} is suspended",
        "Your service {{ service_name }} has been suspended"
        "{% if reason %} ({{ reason }}){% endif %}.",
    ),
    ("service_resumed", "en"): (
        "Service {{ service_name }} is active again",
        "Your service {{ service_name }} has been resumed.",
    ),
    ("service_deleted", "en"): (
        "Service {{ service_name }} is deleted",
        "Your service {{ service_name }} has been deleted.",
    ),
    ("usage_approaching", "en"): (
        "{{ service_name }}: {{ addon }} is near its included amount",
        "Your service {{ service_name }} has used {{ used }} {{ unit }} of {{ addon }}"
        " {% if period == 'day' %}today{% else %}this month{% endif %}, {{ percent }}% of the"
        " {{ included }} {{ unit }} included. Usage above it is charged at the end of the"
        " {{ period }}.",
    ),
    ("usage_exceeded", "en"): (
        "{{ service_name }}: {{ addon }} is over its included amount",
        "Your service {{ service_name }} has used {{ used }} {{ unit }} of {{ addon }}"
        " {% if period == 'day' %}today{% else %}this month{% endif %}, more than the"
        " {{ included }} {{ unit }} included. The overage is charged at the end of the"
        " {{ period }}.",
    ),
    ("usage_over_limit", "en"): (
        "Service {{ service_name }} is suspended: {{ addon }} limit reached",
        "Your service {{ service_name }} has been suspended: it used {{ used }} {{ unit }} of"
        " {{ addon }} {% if period == 'day' %}today{% else %}this month{% endif %}, reaching"
        " its limit of {{ limit }} {{ unit }}. It resumes when the limit is raised or the next"
        " {{ period }} begins.",
    ),
    ("autopay_failed", "en"): (
        "Cannot complete automatic payment",
        '{% if code == "above_maximum" %}Your services need {{ amount }} more than your balance'
        " holds. That is above your auto-payment maximum of {{ maximum }}, so nothing was"
        " charged.{% else %}We could not charge {{ amount }} to your saved payment method"
        "{% if code %} ({{ code }}){% endif %}.{% endif %} Please top up your balance or update"
        " your payment method to keep your services running.",
    ),
    ("operation_failed", "en"): (
        "Operation {{ operation }} failed for service #{{ service_id }}",
        'The operation "{{ operation }}" on service {{ service_name }} failed' + _ERR + "."
        "{% if task_id %} Task #{{ task_id }} has been opened for staff.{% endif %}" + _LINK,
    ),
    ("invoice_issued", "en"): (
        "Invoice {{ number }} from {{ provider.name }}",
        "Please find attached invoice {{ number }} of " + _ISSUED + " for {{ total }}."
        "{% if paid %} It has been paid from your balance; no action is needed."
        "{% elif due_on %} Please pay it by " + _DUE + ".{% endif %}",
    ),
    ("credit_note_issued", "en"): (
        "Credit note {{ number }} from {{ provider.name }}",
        "Please find attached credit note {{ number }} of " + _ISSUED + " for {{ total }}, which"
        " corrects invoice {{ invoice_number }}.{% if reason %} Reason: {{ reason }}.{% endif %}",
    ),
    # --- Russian ---------------------------------------------------------------------------
    ("service_opened", "ru"): (
        "Услуга {{ service_name }} готова",
        "Ваша услуга {{ service_name }} открыта"
        "{% if expires_at %} и оплачена до " + _D + "{% endif %}."
        "{% if amount %} Списано: {{ amount }}.{% endif %}",
    ),
    ("renewal_coming", "ru"): (
        "Продление услуги {{ service_name }} " + _R,
        "Ваша услуга {{ service_name }} оплачена до " + _R + "."
        "{% if amount %} Стоимость продления — {{ amount }}; проверьте, что на балансе достаточно"
        " средств.{% endif %}",
    ),
    ("trial_ending", "ru"): (
        "Пробный период {{ service_name }} заканчивается " + _E,
        "Бесплатный пробный период вашей услуги {{ service_name }} заканчивается " + _E + "."
        "{% if converts_to %} Затем услуга станет платной"
        "{% if amount %} ({{ amount }}){% endif %}; проверьте, что на балансе достаточно средств,"
        " иначе услуга будет приостановлена.{% else %} Включите автопродление, чтобы сохранить"
        " её; иначе услуга будет приостановлена.{% endif %}",
    ),
    ("low_balance", "ru"): (
        "Низкий баланс",
        "На вашем балансе {{ available }}."
        "{% if needed %} Для продления услуг нужно {{ needed }}.{% endif %}"
        " Пожалуйста, пополните баланс.",
    ),
    ("service_suspended", "ru"): (
        "Услуга {{ service_name }} приостановлена",
        "Ваша услуга {{ service_name }} приостановлена{% if reason %} ({{ reason }}){% endif %}.",
    ),
    ("service_resumed", "ru"): (
        "Услуга {{ service_name }} снова работает",
        "Ваша услуга {{ service_name }} возобновлена.",
    ),
    ("service_deleted", "ru"): (
        "Услуга {{ service_name }} удалена",
        "Ваша услуга {{ service_name }} удалена.",
    ),
    ("usage_approaching", "ru"): (
        "{{ service_name }}: {{ addon }} — почти весь включённый объём",
        "Услуга {{ service_name }} израсходовала {{ used }} {{ unit }} ({{ addon }}) за текущий"
        " {% if period == 'day' %}день{% else %}месяц{% endif %} — {{ percent }}% от включённых"
        " {{ included }} {{ unit }}. Расход сверх включённого объёма оплачивается в конце"
        " периода.",
    ),
    ("usage_exceeded", "ru"): (
        "{{ service_name }}: {{ addon }} — включённый объём превышен",
        "Услуга {{ service_name }} израсходовала {{ used }} {{ unit }} ({{ addon }}) за текущий"
        " {% if period == 'day' %}день{% else %}месяц{% endif %} — больше включённых"
        " {{ included }} {{ unit }}. Превышение будет списано в конце периода.",
    ),
    ("usage_over_limit", "ru"): (
        "Услуга {{ service_name }} приостановлена: достигнут лимит {{ addon }}",
        "Ваша услуга {{ service_name }} приостановлена: расход {{ addon }} за текущий"
        " {% if period == 'day' %}день{% else %}месяц{% endif %} составил {{ used }} {{ unit }}"
        " и достиг лимита {{ limit }} {{ unit }}. Услуга возобновится, когда лимит будет"
        " увеличен или начнётся следующий период.",
    ),
    ("autopay_failed", "ru"): (
        "Не удалось выполнить автоплатёж",
        '{% if code == "above_maximum" %}Для продления услуг не хватает {{ amount }}. Это больше'
        " максимальной суммы автоплатежа ({{ maximum }}), поэтому списание не выполнено."
        "{% else %}Не удалось списать {{ amount }} с сохранённого способа оплаты"
        "{% if code %} ({{ code }}){% endif %}.{% endif %} Пополните баланс или обновите способ"
        " оплаты, чтобы услуги продолжили работать.",
    ),
    ("operation_failed", "ru"): (
        "Сбой операции {{ operation }} для услуги #{{ service_id }}",
        "Операция «{{ operation }}» для услуги {{ service_name }} завершилась ошибкой" + _ERR + "."
        "{% if task_id %} Для сотрудников создана задача #{{ task_id }}.{% endif %}" + _LINK,
    ),
    ("invoice_issued", "ru"): (
        "Счёт {{ number }} от {{ provider.name }}",
        "Во вложении счёт {{ number }} от " + _ISSUED + " на сумму {{ total }}."
        "{% if paid %} Он оплачен с вашего баланса, никаких действий не требуется."
        "{% elif due_on %} Пожалуйста, оплатите его до " + _DUE + ".{% endif %}",
    ),
    ("credit_note_issued", "ru"): (
        "Корректировочный счёт {{ number }} от {{ provider.name }}",
        "Во вложении корректировочный счёт {{ number }} от " + _ISSUED + " на сумму {{ total }}"
        " к счёту {{ invoice_number }}.{% if reason %} Причина: {{ reason }}.{% endif %}",
    ),
    # --- Spanish ---------------------------------------------------------------------------
    ("service_opened", "es"): (
        "Su servicio {{ service_name }} está listo",
        "Su servicio {{ service_name }} ha sido activado"
        "{% if expires_at %} y está pagado hasta el " + _D + "{% endif %}."
        "{% if amount %} Importe cobrado: {{ amount }}.{% endif %}",
    ),
    ("renewal_coming", "es"): (
        "El servicio {{ service_name }} se renovará el " + _R,
        "Su servicio {{ service_name }} está pagado hasta el " + _R + "."
        "{% if amount %} La renovación cuesta {{ amount }}; asegúrese de que su saldo lo cubra."
        "{% endif %}",
    ),
    ("trial_ending", "es"): (
        "La prueba de {{ service_name }} termina el " + _E,
        "La prueba gratuita de su servicio {{ service_name }} termina el " + _E + "."
        "{% if converts_to %} Después continuará como servicio de pago"
        "{% if amount %} por {{ amount }}{% endif %}; asegúrese de que su saldo lo cubra o el"
        " servicio se suspenderá.{% else %} Active la renovación automática para conservarlo;"
        " de lo contrario se suspenderá.{% endif %}",
    ),
    ("low_balance", "es"): (
        "Saldo bajo en su cuenta",
        "Su saldo es de {{ available }}."
        "{% if needed %} Sus servicios necesitan {{ needed }} para seguir funcionando.{% endif %}"
        " Por favor, recargue su saldo.",
    ),
    ("service_suspended", "es"): (
        "El servicio {{ service_name }} está suspendido",
        "Su servicio {{ service_name }} ha sido suspendido"
        "{% if reason %} ({{ reason }}){% endif %}.",
    ),
    ("service_resumed", "es"): (
        "El servicio {{ service_name }} vuelve a estar activo",
        "Su servicio {{ service_name }} ha sido reanudado.",
    ),
    ("service_deleted", "es"): (
        "El servicio {{ service_name }} ha sido eliminado",
        "Su servicio {{ service_name }} ha sido eliminado.",
    ),
    ("usage_approaching", "es"): (
        "{{ service_name }}: {{ addon }} se acerca a lo incluido",
        "Su servicio {{ service_name }} ha consumido {{ used }} {{ unit }} de {{ addon }} en"
        " {% if period == 'day' %}el día{% else %}el mes{% endif %} en curso, el {{ percent }}%"
        " de los {{ included }} {{ unit }} incluidos. El consumo adicional se cobra al final del"
        " periodo.",
    ),
    ("usage_exceeded", "es"): (
        "{{ service_name }}: {{ addon }} supera lo incluido",
        "Su servicio {{ service_name }} ha consumido {{ used }} {{ unit }} de {{ addon }} en"
        " {% if period == 'day' %}el día{% else %}el mes{% endif %} en curso, más de los"
        " {{ included }} {{ unit }} incluidos. El exceso se cobra al final del periodo.",
    ),
    ("usage_over_limit", "es"): (
        "Servicio {{ service_name }} suspendido: límite de {{ addon }} alcanzado",
        "Su servicio {{ service_name }} ha sido suspendido: ha consumido {{ used }} {{ unit }} de"
        " {{ addon }} en {% if period == 'day' %}el día{% else %}el mes{% endif %} en curso y"
        " ha alcanzado su límite de {{ limit }} {{ unit }}. Se reanudará cuando se aumente el"
        " límite o empiece el siguiente periodo.",
    ),
    ("autopay_failed", "es"): (
        "No se pudo completar el pago automático",
        '{% if code == "above_maximum" %}A sus servicios les faltan {{ amount }}. Es más que su'
        " máximo de pago automático ({{ maximum }}), por lo que no se ha realizado ningún cargo."
        "{% else %}No pudimos cobrar {{ amount }} a su método de pago guardado"
        "{% if code %} ({{ code }}){% endif %}.{% endif %} Recargue su saldo o actualice su"
        " método de pago para que sus servicios sigan funcionando.",
    ),
    ("operation_failed", "es"): (
        "Falló la operación {{ operation }} del servicio #{{ service_id }}",
        "La operación «{{ operation }}» del servicio {{ service_name }} ha fallado" + _ERR + "."
        "{% if task_id %} Se ha abierto la tarea #{{ task_id }} para el personal.{% endif %}"
        + _LINK,
    ),
    ("invoice_issued", "es"): (
        "Factura {{ number }} de {{ provider.name }}",
        "Adjuntamos la factura {{ number }} del " + _ISSUED + " por {{ total }}."
        "{% if paid %} Se ha pagado con su saldo; no tiene que hacer nada."
        "{% elif due_on %} Por favor, páguela antes del " + _DUE + ".{% endif %}",
    ),
    ("credit_note_issued", "es"): (
        "Factura rectificativa {{ number }} de {{ provider.name }}",
        "Adjuntamos la factura rectificativa {{ number }} del " + _ISSUED + " por {{ total }},"
        " que corrige la factura {{ invoice_number }}.{% if reason %} Motivo: {{ reason }}."
        "{% endif %}",
    ),
}

# Support tickets: the message text itself, with a line the mail gateway cuts quoted text at.
_TICKET_SUBJECT = "[#{{ ticket_id }}] {{ subject }}"
_CUT = {
    "en": "-- Reply above this line to answer the ticket --",
    "ru": "-- Ответьте выше этой строки --",
    "es": "-- Responda encima de esta línea --",
}
MESSAGES.update(
    {
        ("ticket_reply", "en"): (
            _TICKET_SUBJECT,
            _CUT["en"] + "\n\n{{ message }}\n\nTicket #{{ ticket_id }}: reply to this email"
            "{% if path %} or open {{ provider.billing_url }}{{ path }}{% endif %}.",
        ),
        ("ticket_reply", "ru"): (
            _TICKET_SUBJECT,
            _CUT["ru"] + "\n\n{{ message }}\n\nЗапрос #{{ ticket_id }}: ответьте на это письмо"
            "{% if path %} или откройте {{ provider.billing_url }}{{ path }}{% endif %}.",
        ),
        ("ticket_reply", "es"): (
            _TICKET_SUBJECT,
            _CUT["es"] + "\n\n{{ message }}\n\nTicket #{{ ticket_id }}: responda a este correo"
            "{% if path %} o abra {{ provider.billing_url }}{{ path }}{% endif %}.",
        ),
        ("ticket_message", "en"): (
            _TICKET_SUBJECT,
            _CUT["en"] + "\n\n{{ author }} wrote in {{ department }}:\n\n{{ message }}" + _LINK,
        ),
        ("ticket_message", "ru"): (
            _TICKET_SUBJECT,
            _CUT["ru"]
            + "\n\n{{ author }} пишет в отдел {{ department }}:\n\n{{ message }}"
            + _LINK,
        ),
        ("ticket_message", "es"): (
            _TICKET_SUBJECT,
            _CUT["es"] + "\n\n{{ author }} escribe en {{ department }}:\n\n{{ message }}" + _LINK,
        ),
    }
)
#: The cut lines of every language (the mail gateway drops them and what follows).
REPLY_CUT_LINES = tuple(_CUT.values())


def _email_body(event: str, locale: str, message: str) -> str:
    if event in STAFF_EVENTS:
        return message + "\n\n-- \nBillow\n"
    return (
        f"{_GREETING[locale]}\n\n{message}\n\n-- \n"
        f"{{% if provider.billing_url %}}{_ACCOUNT[locale]}: {{{{ provider.billing_url }}}}\n"
        "{% endif %}{{ provider.name }}\n"
    )


def builtin_source(event: str, locale: str, channel: str) -> tuple[str, str] | None:
    """(subject, text body) of the built-in template, or None where there is none."""
    found = MESSAGES.get((event, locale))
    if found is None:
        return None
    subject, message = found
    if channel == "panel":
        return None if event in STAFF_EVENTS else (subject, message)
    return subject, _email_body(event, locale, message)
