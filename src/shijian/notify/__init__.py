"""Notifications: in-app rows with read state (hazards.Notification), delivered also by e-mail and a webhook
(``channels``) as each user chooses per kind (``Preference``), to users whose jurisdiction covers the subject."""
