<?php
// Run with php-cli against a test site: `php seed.php setup` sets the site's time zone and
// permalinks (once, for the cached database); `php seed.php admin-password` makes a fresh
// application password for the administrator (every run) and prints it.
require getenv('KEYWARD_WP_SITE') . '/wp-load.php';

switch ($argv[1] ?? '') {
    case 'setup':
        // A zone with a half-hour offset and no daylight saving: a time read in the wrong zone
        // is off by 5.5 hours.
        update_option('timezone_string', 'Asia/Kolkata');
        update_option('gmt_offset', '');
        global $wp_rewrite;
        $wp_rewrite->set_permalink_structure('/%postname%/');
        flush_rewrite_rules(false);
        update_option('users_can_register', 0);
        echo 'offset ', get_option('gmt_offset'), ', permalinks ', get_option('permalink_structure'), "\n";
        break;
    case 'admin-password':
        $admin = get_user_by('login', 'admin');
        $made = WP_Application_Passwords::create_new_application_password($admin->ID, array('name' => 'keyward-tests-admin'));
        if (is_wp_error($made)) {
            fwrite(STDERR, $made->get_error_message() . "\n");
            exit(1);
        }
        echo $made[0], "\n";
        break;
    default:
        fwrite(STDERR, "usage: seed.php setup | admin-password\n");
        exit(2);
}
