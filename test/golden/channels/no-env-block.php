    $channels['kimaki'] = [
        'command' => '/usr/bin/kimaki',
        'args'    => [ 'send', '--channel', '{recipient}', '--prompt', '{message}' ],
        'detach'  => true,
        'timeout' => 600,
    ];
