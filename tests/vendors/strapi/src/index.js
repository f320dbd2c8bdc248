'use strict';

const fs = require('fs');

// On start: the locales Charter's demo uses; a full-access API token whose key is written to
// $CHARTER_TOKEN_FILE (the tests seed and read with it); and, with $CHARTER_WEBHOOK_URL, a webhook
// on every entry event to Charter. The admin API refuses webhook URLs that are not on the public
// internet, so a Charter on a private address is registered here, server-side.
module.exports = {
  register() {},
  async bootstrap({ strapi }) {
    const locales = strapi.plugin('i18n').service('locales');
    for (const [code, name] of [['de-DE', 'German (Germany)'], ['de-AT', 'German (Austria)']]) {
      if (!(await locales.findByCode(code))) await locales.create({ code, name });
    }
    const file = process.env.CHARTER_TOKEN_FILE;
    if (file && !fs.existsSync(file)) {
      const token = await strapi
        .service('admin::api-token')
        .create({ name: 'charter', description: 'Charter tests', type: 'full-access', lifespan: null });
      fs.writeFileSync(file, token.accessKey);
    }
    const url = process.env.CHARTER_WEBHOOK_URL;
    if (url) {
      const store = strapi.get('webhookStore');
      if (!(await store.findWebhooks()).some((hook) => hook.name === 'Charter')) {
        const hook = await store.createWebhook({
          name: 'Charter',
          url,
          headers: { 'Charter-Source-Secret': process.env.CHARTER_WEBHOOK_SECRET || '' },
          events: ['entry.create', 'entry.update', 'entry.delete', 'entry.publish', 'entry.unpublish'],
          isEnabled: true,
        });
        strapi.get('webhookRunner').add(hook);
      }
    }
  },
};
